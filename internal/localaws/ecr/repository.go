package ecr

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// repository is one ECR repository and the images pushed to it.
type repository struct {
	name       string
	createdAt  time.Time
	mutability string
	scanOnPush bool
	encryption encryptionConfiguration
	tags       map[string]string
	// images by digest, and the digest each tag points at.
	images    map[string]*image
	tagDigest map[string]string
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type encryptionConfiguration struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

type scanningConfiguration struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type repositoryOut struct {
	RepositoryArn              string                  `json:"repositoryArn"`
	RegistryID                 string                  `json:"registryId"`
	RepositoryName             string                  `json:"repositoryName"`
	RepositoryURI              string                  `json:"repositoryUri"`
	CreatedAt                  epoch                   `json:"createdAt"`
	ImageTagMutability         string                  `json:"imageTagMutability"`
	ImageScanningConfiguration scanningConfiguration   `json:"imageScanningConfiguration"`
	EncryptionConfiguration    encryptionConfiguration `json:"encryptionConfiguration"`
}

func (s *Service) arn(name string) string { return s.env.ARN("ecr", s.env.Region, "repository/"+name) }

func (s *Service) out(r *repository) repositoryOut {
	return repositoryOut{
		RepositoryArn:              s.arn(r.name),
		RegistryID:                 s.env.Account,
		RepositoryName:             r.name,
		RepositoryURI:              s.registryHost() + "/" + r.name,
		CreatedAt:                  epoch(r.createdAt),
		ImageTagMutability:         r.mutability,
		ImageScanningConfiguration: scanningConfiguration{r.scanOnPush},
		EncryptionConfiguration:    r.encryption,
	}
}

// repositoryName is ECR's rule for repository names.
var repositoryName = awsproto.Pattern(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func validName(name string) *awsproto.Error {
	if len(name) < 2 || len(name) > 256 || !repositoryName().MatchString(name) {
		return invalidParameter("Invalid parameter at 'repositoryName' failed to satisfy constraint: "+
			"'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' "+
			"and be between 2 and 256 characters long' (got %q)", name)
	}
	return nil
}

func (s *Service) repo(name string) (*repository, *awsproto.Error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	r, ok := s.repos[name]
	if !ok {
		return nil, repoNotFound(s.env.Account, name)
	}
	return r, nil
}

func repoNotFound(account, name string) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "RepositoryNotFoundException",
		"The repository with name '%s' does not exist in the registry with id '%s'", name, account)
}

var mutabilities = []string{"MUTABLE", "IMMUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"}

func validMutability(m string) *awsproto.Error {
	if !slices.Contains(mutabilities, m) {
		return invalidParameter("Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]'")
	}
	return nil
}

// immutable reports whether a pushed tag may not move to another image.
func (r *repository) immutable() bool { return strings.HasPrefix(r.mutability, "IMMUTABLE") }

type createRepositoryIn struct {
	RepositoryName             string                   `json:"repositoryName"`
	Tags                       []tag                    `json:"tags"`
	ImageTagMutability         string                   `json:"imageTagMutability"`
	ImageScanningConfiguration *scanningConfiguration   `json:"imageScanningConfiguration"`
	EncryptionConfiguration    *encryptionConfiguration `json:"encryptionConfiguration"`
}

func (s *Service) createRepository(in *createRepositoryIn) (any, error) {
	if err := validName(in.RepositoryName); err != nil {
		return nil, err
	}
	r := &repository{
		name:       in.RepositoryName,
		createdAt:  s.env.Clock.Now(),
		mutability: "MUTABLE",
		encryption: encryptionConfiguration{EncryptionType: "AES256"},
		tags:       map[string]string{},
		images:     map[string]*image{},
		tagDigest:  map[string]string{},
	}
	if in.ImageTagMutability != "" {
		if err := validMutability(in.ImageTagMutability); err != nil {
			return nil, err
		}
		r.mutability = in.ImageTagMutability
	}
	if in.ImageScanningConfiguration != nil {
		r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if e := in.EncryptionConfiguration; e != nil {
		switch {
		case e.EncryptionType != "AES256" && e.EncryptionType != "KMS" && e.EncryptionType != "KMS_DSSE":
			return nil, invalidParameter("Invalid parameter at 'encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]'")
		case e.EncryptionType == "AES256" && e.KmsKey != "":
			return nil, invalidParameter("Invalid parameter: kmsKey can only be specified when encryptionType is KMS or KMS_DSSE")
		}
		r.encryption = *e
		if r.encryption.EncryptionType != "AES256" && r.encryption.KmsKey == "" {
			// ECR uses the AWS managed key when none is given.
			r.encryption.KmsKey = s.env.ARN("kms", s.env.Region, "alias/aws/ecr")
		}
	}
	if err := addTags(r, in.Tags); err != nil {
		return nil, err
	}
	if _, ok := s.repos[r.name]; ok {
		return nil, awsproto.Errorf(http.StatusBadRequest, "RepositoryAlreadyExistsException",
			"The repository with name '%s' already exists in the registry with id '%s'", r.name, s.env.Account)
	}
	s.repos[r.name] = r
	return map[string]any{"repository": s.out(r)}, nil
}

type describeRepositoriesIn struct {
	RepositoryNames []string `json:"repositoryNames"`
	MaxResults      int      `json:"maxResults"`
	NextToken       string   `json:"nextToken"`
}

func (s *Service) describeRepositories(in *describeRepositoriesIn) (any, error) {
	var out []repositoryOut
	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != 0 || in.NextToken != "" {
			return nil, invalidParameter("maxResults and nextToken cannot be used with repositoryNames")
		}
		for _, name := range in.RepositoryNames {
			r, err := s.repo(name)
			if err != nil {
				return nil, err
			}
			out = append(out, s.out(r))
		}
		return map[string]any{"repositories": out}, nil
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'")
	}
	names := make([]string, 0, len(s.repos))
	for name := range s.repos {
		names = append(names, name)
	}
	sort.Strings(names)
	start, end, next, err := paginate(len(names), in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	out = []repositoryOut{}
	for _, name := range names[start:end] {
		out = append(out, s.out(s.repos[name]))
	}
	res := map[string]any{"repositories": out}
	if next != "" {
		res["nextToken"] = next
	}
	return res, nil
}

type deleteRepositoryIn struct {
	RepositoryName string `json:"repositoryName"`
	Force          bool   `json:"force"`
}

func (s *Service) deleteRepository(in *deleteRepositoryIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if len(r.images) > 0 && !in.Force {
		return nil, awsproto.Errorf(http.StatusBadRequest, "RepositoryNotEmptyException",
			"The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", r.name, s.env.Account)
	}
	for digest := range r.images {
		s.removeImage(r, digest)
	}
	delete(s.repos, r.name)
	return map[string]any{"repository": s.out(r)}, nil
}

type putImageTagMutabilityIn struct {
	RepositoryName     string `json:"repositoryName"`
	ImageTagMutability string `json:"imageTagMutability"`
}

func (s *Service) putImageTagMutability(in *putImageTagMutabilityIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := validMutability(in.ImageTagMutability); err != nil {
		return nil, err
	}
	r.mutability = in.ImageTagMutability
	return map[string]any{"registryId": s.env.Account, "repositoryName": r.name, "imageTagMutability": r.mutability}, nil
}

type putImageScanningConfigurationIn struct {
	RepositoryName             string                `json:"repositoryName"`
	ImageScanningConfiguration scanningConfiguration `json:"imageScanningConfiguration"`
}

func (s *Service) putImageScanningConfiguration(in *putImageScanningConfigurationIn) (any, error) {
	r, err := s.repo(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	return map[string]any{"registryId": s.env.Account, "repositoryName": r.name,
		"imageScanningConfiguration": scanningConfiguration{r.scanOnPush}}, nil
}

// repoByARN finds the repository an ARN names.
func (s *Service) repoByARN(arn string) (*repository, *awsproto.Error) {
	name, ok := strings.CutPrefix(arn, s.arn(""))
	if !ok || name == "" {
		return nil, invalidParameter("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN' (got %q)", arn)
	}
	r, ok := s.repos[name]
	if !ok {
		return nil, repoNotFound(s.env.Account, name)
	}
	return r, nil
}

// addTags keeps ECR's tag rules: keys of 1 to 128 characters, values of at
// most 256, no aws: prefix, and at most 50 tags on a resource.
func addTags(r *repository, tags []tag) *awsproto.Error {
	merged := map[string]string{}
	for k, v := range r.tags {
		merged[k] = v
	}
	for _, t := range tags {
		switch {
		case utf8.RuneCountInString(t.Key) < 1 || utf8.RuneCountInString(t.Key) > 128:
			return awsproto.Errorf(http.StatusBadRequest, "InvalidTagParameterException", "Tag keys must be between 1 and 128 characters long (got %q)", t.Key)
		case utf8.RuneCountInString(t.Value) > 256:
			return awsproto.Errorf(http.StatusBadRequest, "InvalidTagParameterException", "Tag values must be at most 256 characters long")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return awsproto.Errorf(http.StatusBadRequest, "InvalidTagParameterException", "Tag keys may not begin with aws: (got %q)", t.Key)
		}
		merged[t.Key] = t.Value
	}
	if len(merged) > 50 {
		return awsproto.Errorf(http.StatusBadRequest, "TooManyTagsException", "A resource can have at most 50 tags (would have %d)", len(merged))
	}
	r.tags = merged
	return nil
}

type tagResourceIn struct {
	ResourceArn string   `json:"resourceArn"`
	Tags        []tag    `json:"tags"`
	TagKeys     []string `json:"tagKeys"`
}

func (s *Service) tagResource(in *tagResourceIn) (any, error) {
	r, err := s.repoByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := addTags(r, in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) untagResource(in *tagResourceIn) (any, error) {
	r, err := s.repoByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.tags, k)
	}
	return struct{}{}, nil
}

func (s *Service) listTagsForResource(in *tagResourceIn) (any, error) {
	r, err := s.repoByARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := []tag{}
	for k, v := range r.tags {
		tags = append(tags, tag{k, v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return map[string]any{"tags": tags}, nil
}

// tokenLifetime is how long an authorization token is valid, as in ECR.
const tokenLifetime = 12 * time.Hour

type getAuthorizationTokenIn struct {
	RegistryIDs []string `json:"registryIds"`
}

func (s *Service) getAuthorizationToken(*getAuthorizationTokenIn) (any, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	password := hex.EncodeToString(b[:])
	now := s.env.Clock.Now()
	for p, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, p)
		}
	}
	expires := now.Add(tokenLifetime)
	s.tokens[password] = expires
	return map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
		"expiresAt":          epoch(expires),
		"proxyEndpoint":      s.proxyEndpoint(),
	}}}, nil
}

// validPassword reports whether password is an unexpired token's.
func (s *Service) validPassword(password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[password]
	return ok && s.env.Clock.Now().Before(exp)
}
