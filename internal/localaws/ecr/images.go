package ecr

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// image is one manifest pushed to a repository; its tags are the
// repository's tagDigest entries that point at it.
type image struct {
	digest            string
	manifest          []byte
	mediaType         string
	artifactMediaType string
	size              int64
	pushedAt          time.Time
}

// manifestFields are the parts of an image manifest or index ECR reports.
type manifestFields struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Layers []struct {
		Size int64 `json:"size"`
	} `json:"layers"`
	Manifests []struct {
		Digest string `json:"digest"`
	} `json:"manifests"`
}

// recordPush adds a manifest the registry accepted to the repository's
// index: a new image, or a known digest; a tag moves to it.
func (s *Service) recordPush(r *repository, ref, digest, contentType string, manifest []byte) {
	if _, ok := r.images[digest]; !ok {
		var m manifestFields
		_ = json.Unmarshal(manifest, &m)
		img := &image{digest: digest, manifest: manifest, mediaType: contentType,
			artifactMediaType: m.Config.MediaType, pushedAt: s.env.Clock.Now()}
		if img.mediaType == "" {
			img.mediaType = m.MediaType
		}
		// ECR's size is the compressed layers'; an index's is its largest
		// image's.
		for _, l := range m.Layers {
			img.size += l.Size
		}
		for _, child := range m.Manifests {
			if c, ok := r.images[child.Digest]; ok {
				img.size = max(img.size, c.size)
			}
		}
		r.images[digest] = img
	}
	if !isDigest(ref) {
		r.tagDigest[ref] = digest
	}
}

// removeImage deletes an image, its tags, and its manifests in the registry.
func (s *Service) removeImage(r *repository, digest string) {
	for _, t := range r.tagsOf(digest) {
		delete(r.tagDigest, t)
		s.deleteManifest(r.name, t)
	}
	delete(r.images, digest)
	s.deleteManifest(r.name, digest)
}

// deleteManifest deletes one manifest reference from the registry.
func (s *Service) deleteManifest(repo, ref string) {
	req := httptest.NewRequest(http.MethodDelete, "/v2/"+repo+"/manifests/"+ref, nil)
	s.inner.ServeHTTP(httptest.NewRecorder(), req)
}

// tagsOf lists an image's tags, sorted.
func (r *repository) tagsOf(digest string) []string {
	var tags []string
	for t, d := range r.tagDigest {
		if d == digest {
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	return tags
}

// sortedImages lists the images oldest push first, so pages are stable.
func (r *repository) sortedImages() []*image {
	imgs := make([]*image, 0, len(r.images))
	for _, img := range r.images {
		imgs = append(imgs, img)
	}
	sort.Slice(imgs, func(i, j int) bool {
		if !imgs[i].pushedAt.Equal(imgs[j].pushedAt) {
			return imgs[i].pushedAt.Before(imgs[j].pushedAt)
		}
		return imgs[i].digest < imgs[j].digest
	})
	return imgs
}

var digestPattern = awsproto.Pattern(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

func isDigest(ref string) bool { return digestPattern().MatchString(ref) }

type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
}

// resolve finds the image an ID names, or says why it cannot.
func (r *repository) resolve(id imageID) (*image, *imageFailure) {
	fail := func(code, reason string) (*image, *imageFailure) {
		return nil, &imageFailure{ImageID: id, FailureCode: code, FailureReason: reason}
	}
	digest := id.ImageDigest
	switch {
	case id.ImageDigest == "" && id.ImageTag == "":
		return fail("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null")
	case id.ImageDigest != "" && !isDigest(id.ImageDigest):
		return fail("InvalidImageDigest", "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'")
	case id.ImageTag != "":
		d, ok := r.tagDigest[id.ImageTag]
		if !ok {
			return fail("ImageNotFound", "Requested image not found")
		}
		if digest != "" && d != digest {
			return fail("ImageTagDoesNotMatchDigest", "Invalid request parameters: given tag does not map to the given digest")
		}
		digest = d
	}
	img, ok := r.images[digest]
	if !ok {
		return fail("ImageNotFound", "Requested image not found")
	}
	return img, nil
}

type tagStatusFilter struct {
	TagStatus string `json:"tagStatus"`
}

func (f *tagStatusFilter) keep(tagged bool) bool {
	if f == nil {
		return true
	}
	switch f.TagStatus {
	case "TAGGED":
		return tagged
	case "UNTAGGED":
		return !tagged
	}
	return true
}

func validFilter(f *tagStatusFilter) *awsproto.Error {
	if f != nil && f.TagStatus != "" && f.TagStatus != "TAGGED" && f.TagStatus != "UNTAGGED" && f.TagStatus != "ANY" {
		return invalidParameter("Invalid parameter at 'tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'")
	}
	return nil
}

func validMaxResults(n int) *awsproto.Error {
	if n < 0 || n > 1000 {
		return invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'")
	}
	return nil
}

type listImagesIn struct {
	RepositoryName string           `json:"repositoryName"`
	Filter         *tagStatusFilter `json:"filter"`
	MaxResults     int              `json:"maxResults"`
	NextToken      string           `json:"nextToken"`
}

func (s *Service) listImages(in *listImagesIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := validFilter(in.Filter); err != nil {
		return nil, err
	}
	if err := validMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	ids := []imageID{}
	for _, img := range r.sortedImages() {
		tags := r.tagsOf(img.digest)
		if !in.Filter.keep(len(tags) > 0) {
			continue
		}
		if len(tags) == 0 {
			ids = append(ids, imageID{ImageDigest: img.digest})
		}
		for _, t := range tags {
			ids = append(ids, imageID{ImageDigest: img.digest, ImageTag: t})
		}
	}
	start, end, next, perr := paginate(len(ids), in.NextToken, in.MaxResults, 100)
	if perr != nil {
		return nil, perr
	}
	out := map[string]any{"imageIds": ids[start:end]}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

type imageDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          epoch    `json:"imagePushedAt"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
}

type describeImagesIn struct {
	RepositoryName string           `json:"repositoryName"`
	ImageIDs       []imageID        `json:"imageIds"`
	Filter         *tagStatusFilter `json:"filter"`
	MaxResults     int              `json:"maxResults"`
	NextToken      string           `json:"nextToken"`
}

func (s *Service) describeImages(in *describeImagesIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := validFilter(in.Filter); err != nil {
		return nil, err
	}
	if err := validMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	var imgs []*image
	if len(in.ImageIDs) > 0 {
		for _, id := range in.ImageIDs {
			img, fail := r.resolve(id)
			if fail != nil {
				if fail.FailureCode == "ImageNotFound" {
					return nil, awsproto.Errorf(http.StatusBadRequest, "ImageNotFoundException",
						"The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'",
						describeID(id), r.name, s.env.Account)
				}
				return nil, invalidParameter("%s", fail.FailureReason)
			}
			imgs = append(imgs, img)
		}
	} else {
		for _, img := range r.sortedImages() {
			if in.Filter.keep(len(r.tagsOf(img.digest)) > 0) {
				imgs = append(imgs, img)
			}
		}
	}
	start, end, next, perr := paginate(len(imgs), in.NextToken, in.MaxResults, 100)
	if perr != nil {
		return nil, perr
	}
	details := []imageDetail{}
	for _, img := range imgs[start:end] {
		details = append(details, imageDetail{
			RegistryID: s.env.Account, RepositoryName: r.name, ImageDigest: img.digest,
			ImageTags: r.tagsOf(img.digest), ImageSizeInBytes: img.size, ImagePushedAt: epoch(img.pushedAt),
			ImageManifestMediaType: img.mediaType, ArtifactMediaType: img.artifactMediaType,
		})
	}
	out := map[string]any{"imageDetails": details}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func describeID(id imageID) string {
	b, _ := json.Marshal(id)
	return string(b)
}

type batchImagesIn struct {
	RepositoryName     string    `json:"repositoryName"`
	ImageIDs           []imageID `json:"imageIds"`
	AcceptedMediaTypes []string  `json:"acceptedMediaTypes"`
}

func (s *Service) batchGetImage(in *batchImagesIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	type imageOut struct {
		RegistryID             string  `json:"registryId"`
		RepositoryName         string  `json:"repositoryName"`
		ImageID                imageID `json:"imageId"`
		ImageManifest          string  `json:"imageManifest"`
		ImageManifestMediaType string  `json:"imageManifestMediaType,omitempty"`
	}
	images, failures := []imageOut{}, []imageFailure{}
	for _, id := range in.ImageIDs {
		img, fail := r.resolve(id)
		if fail != nil {
			failures = append(failures, *fail)
			continue
		}
		if len(in.AcceptedMediaTypes) > 0 && !contains(in.AcceptedMediaTypes, img.mediaType) {
			failures = append(failures, imageFailure{ImageID: id, FailureCode: "UnsupportedImageType",
				FailureReason: "Image media type " + img.mediaType + " is not among the accepted media types"})
			continue
		}
		images = append(images, imageOut{RegistryID: s.env.Account, RepositoryName: r.name,
			ImageID: imageID{ImageDigest: img.digest, ImageTag: id.ImageTag}, ImageManifest: string(img.manifest),
			ImageManifestMediaType: img.mediaType})
	}
	return map[string]any{"images": images, "failures": failures}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// batchDeleteImage keeps ECR's rules: an ID by digest deletes the image
// with all its tags; an ID by tag removes the tag, and the image with its
// last tag. What cannot be found is a failure, not an error.
func (s *Service) batchDeleteImage(in *batchImagesIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	deleted, failures := []imageID{}, []imageFailure{}
	for _, id := range in.ImageIDs {
		img, fail := r.resolve(id)
		if fail != nil {
			failures = append(failures, *fail)
			continue
		}
		deleted = append(deleted, s.deleteImage(r, img, id)...)
	}
	return map[string]any{"imageIds": deleted, "failures": failures}, nil
}

// deleteImage deletes what id names of img and returns the IDs deleted.
func (s *Service) deleteImage(r *repository, img *image, id imageID) []imageID {
	if id.ImageDigest == "" {
		delete(r.tagDigest, id.ImageTag)
		s.deleteManifest(r.name, id.ImageTag)
		if len(r.tagsOf(img.digest)) == 0 {
			s.removeImage(r, img.digest)
		}
		return []imageID{{ImageDigest: img.digest, ImageTag: id.ImageTag}}
	}
	var ids []imageID
	for _, t := range r.tagsOf(img.digest) {
		ids = append(ids, imageID{ImageDigest: img.digest, ImageTag: t})
	}
	if len(ids) == 0 {
		ids = []imageID{{ImageDigest: img.digest}}
	}
	s.removeImage(r, img.digest)
	return ids
}
