package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// xmlns is S3's XML namespace.
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// usEast1 is the region where CreateBucket takes no location constraint
// and re-creating one's own bucket succeeds.
const usEast1 = "us-east-1"

// bucket is what this package keeps of a bucket; its objects live in the
// gofakes3 backend.
type bucket struct {
	region     string
	tags       []tag // nil: no tag set
	pab        *publicAccessBlock
	encryption encryption
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tag    `xml:"TagSet>Tag"`
}

type publicAccessBlock struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

type encryptionRule struct {
	Algorithm        string `xml:"ApplyServerSideEncryptionByDefault>SSEAlgorithm"`
	KMSMasterKeyID   string `xml:"ApplyServerSideEncryptionByDefault>KMSMasterKeyID,omitempty"`
	BucketKeyEnabled bool   `xml:"BucketKeyEnabled"`
}

type encryption struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string           `xml:"xmlns,attr,omitempty"`
	Rules   []encryptionRule `xml:"Rule"`
}

// defaultEncryption is SSE-S3, which AWS applies to every bucket.
func defaultEncryption() encryption {
	return encryption{Rules: []encryptionRule{{Algorithm: "AES256"}}}
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

func noSuchBucket(name string) *awsproto.Error {
	return awsproto.Errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist: %s", name)
}

func malformedXML(err error) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema: %v", err)
}

// decodeXML reads r's body into v; an empty body is MalformedXML.
func decodeXML(r *http.Request, v any) *awsproto.Error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return awsproto.Errorf(http.StatusBadRequest, "IncompleteBody", "read request body: %v", err)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return malformedXML(err)
	}
	return nil
}

func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		awsproto.WriteS3Error(w, awsproto.AsError(fmt.Errorf("encode response: %w", err)))
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// withBucket runs f on the named bucket under the service's lock, or
// answers NoSuchBucket.
func (s *Service) withBucket(name string, f func(b *bucket) *awsproto.Error) *awsproto.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return noSuchBucket(name)
	}
	return f(b)
}

func (s *Service) createBucket(w http.ResponseWriter, r *http.Request, name string) *awsproto.Error {
	if err := validBucketName(name); err != nil {
		return err
	}
	var cfg createBucketConfiguration
	if body, _ := io.ReadAll(r.Body); len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return malformedXML(err)
		}
	}
	region := s.requestRegion(r)
	if err := checkLocation(region, strings.TrimSpace(cfg.LocationConstraint)); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[name]; ok {
		// AWS's legacy rule: in us-east-1, re-creating one's own bucket
		// answers 200; everywhere else it is BucketAlreadyOwnedByYou.
		if region == usEast1 && b.region == usEast1 {
			w.Header().Set("Location", "/"+name)
			w.WriteHeader(http.StatusOK)
			return nil
		}
		return awsproto.Errorf(http.StatusConflict, "BucketAlreadyOwnedByYou",
			"Your previous request to create the named bucket succeeded and you already own it.")
	}
	if err := s.backend.CreateBucket(name); err != nil {
		return fromFake(err)
	}
	s.buckets[name] = &bucket{
		region:     region,
		pab:        &publicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
		encryption: defaultEncryption(),
	}
	w.Header().Set("Location", "/"+name)
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkLocation keeps CreateBucket's location rules: a bucket is created
// in the region of the endpoint the request was sent to; us-east-1 takes
// no location constraint (naming it is InvalidLocationConstraint), every
// other region requires its own.
func checkLocation(region, constraint string) *awsproto.Error {
	switch {
	case region == usEast1 && constraint == usEast1:
		return awsproto.Errorf(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid")
	case constraint == "" && region != usEast1:
		return awsproto.Errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint != "" && constraint != region:
		return awsproto.Errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint)
	}
	return nil
}

func (s *Service) deleteBucket(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; !ok {
		return noSuchBucket(name)
	}
	if err := s.backend.DeleteBucket(name); err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrBucketNotEmpty) {
			return awsproto.Errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
		}
		return fromFake(err)
	}
	delete(s.buckets, name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) headBucket(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		w.Header().Set("X-Amz-Bucket-Region", b.region)
		w.WriteHeader(http.StatusOK)
		return nil
	})
}

func (s *Service) getBucketLocation(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		loc := b.region
		if loc == usEast1 {
			loc = "" // S3 spells us-east-1 as no constraint
		}
		writeXML(w, http.StatusOK, struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			Xmlns   string   `xml:"xmlns,attr"`
			Value   string   `xml:",chardata"`
		}{Xmlns: xmlns, Value: loc})
		return nil
	})
}

func (s *Service) putBucketTagging(w http.ResponseWriter, r *http.Request, name string) *awsproto.Error {
	var in tagging
	if err := decodeXML(r, &in); err != nil {
		return err
	}
	if err := validTags(in.TagSet); err != nil {
		return err
	}
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		b.tags = append([]tag{}, in.TagSet...)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Service) getBucketTagging(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		if b.tags == nil {
			return awsproto.Errorf(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
		}
		writeXML(w, http.StatusOK, tagging{Xmlns: xmlns, TagSet: b.tags})
		return nil
	})
}

func (s *Service) deleteBucketTagging(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		b.tags = nil
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Service) putPublicAccessBlock(w http.ResponseWriter, r *http.Request, name string) *awsproto.Error {
	var in publicAccessBlock
	if err := decodeXML(r, &in); err != nil {
		return err
	}
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		in.Xmlns = ""
		b.pab = &in
		w.WriteHeader(http.StatusOK)
		return nil
	})
}

func (s *Service) getPublicAccessBlock(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		if b.pab == nil {
			return awsproto.Errorf(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration",
				"The public access block configuration was not found")
		}
		out := *b.pab
		out.Xmlns = xmlns
		writeXML(w, http.StatusOK, out)
		return nil
	})
}

func (s *Service) deletePublicAccessBlock(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		b.pab = nil
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// sseAlgorithms are the default encryption algorithms S3 accepts.
var sseAlgorithms = []string{"AES256", "aws:kms", "aws:kms:dsse"}

func (s *Service) putBucketEncryption(w http.ResponseWriter, r *http.Request, name string) *awsproto.Error {
	var in encryption
	if err := decodeXML(r, &in); err != nil {
		return err
	}
	if len(in.Rules) != 1 {
		return malformedXML(fmt.Errorf("want exactly one Rule, got %d", len(in.Rules)))
	}
	rule := in.Rules[0]
	if !slices.Contains(sseAlgorithms, rule.Algorithm) {
		return malformedXML(fmt.Errorf("unknown SSEAlgorithm %q", rule.Algorithm))
	}
	if rule.KMSMasterKeyID != "" && rule.Algorithm == "AES256" {
		return awsproto.Errorf(http.StatusBadRequest, "InvalidArgument",
			"a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		b.encryption = encryption{Rules: []encryptionRule{rule}}
		w.WriteHeader(http.StatusOK)
		return nil
	})
}

// getBucketEncryption answers the bucket's default encryption. Every
// bucket has one (SSE-S3 unless changed), so S3's
// ServerSideEncryptionConfigurationNotFoundError is never the answer.
func (s *Service) getBucketEncryption(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		out := b.encryption
		out.Xmlns = xmlns
		writeXML(w, http.StatusOK, out)
		return nil
	})
}

// deleteBucketEncryption resets the default encryption to SSE-S3, as AWS
// documents.
func (s *Service) deleteBucketEncryption(w http.ResponseWriter, _ *http.Request, name string) *awsproto.Error {
	return s.withBucket(name, func(b *bucket) *awsproto.Error {
		b.encryption = defaultEncryption()
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
