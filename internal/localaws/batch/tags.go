package batch

import (
	"net/http"
	"strings"
)

// tagsOf finds the tags of the resource an ARN names: a compute
// environment, job queue, job definition revision or job.
func (s *Service) tagsOf(arn string) (*map[string]string, bool) {
	switch {
	case strings.Contains(arn, ":compute-environment/"):
		for _, ce := range s.ces {
			if ce.d.ComputeEnvironmentArn == arn {
				return &ce.d.Tags, true
			}
		}
	case strings.Contains(arn, ":job-queue/"):
		for _, q := range s.queues {
			if q.d.JobQueueArn == arn {
				return &q.d.Tags, true
			}
		}
	case strings.Contains(arn, ":job-definition/"):
		if d := s.findDef(arn); d != nil && strings.Contains(arn, ":job-definition/"+d.JobDefinitionName+":") {
			return &d.Tags, true
		}
	case strings.Contains(arn, ":job/"):
		if j, ok := s.jobs[arn[strings.Index(arn, ":job/")+len(":job/"):]]; ok && j.d.JobArn == arn {
			return &j.d.Tags, true
		}
	}
	return nil, false
}

func tagResource(s *Service, r *http.Request, body []byte) (any, error) {
	arn, err := resourceARN(r)
	if err != nil {
		return nil, clientError("resourceArn is not a valid ARN")
	}
	return decode(func(s *Service, in *struct {
		Tags map[string]string `json:"tags"`
	}) (any, error) {
		if len(in.Tags) == 0 {
			return nil, clientError("tags must contain at least one tag")
		}
		if err := validateTags(in.Tags); err != nil {
			return nil, err
		}
		tags, ok := s.tagsOf(arn)
		if !ok {
			return nil, clientError("Resource %s does not exist", arn)
		}
		merged := map[string]string{}
		for k, v := range *tags {
			merged[k] = v
		}
		for k, v := range in.Tags {
			merged[k] = v
		}
		if err := validateTags(merged); err != nil {
			return nil, err
		}
		*tags = merged
		return struct{}{}, nil
	})(s, r, body)
}

func untagResource(s *Service, r *http.Request, _ []byte) (any, error) {
	arn, err := resourceARN(r)
	if err != nil {
		return nil, clientError("resourceArn is not a valid ARN")
	}
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return nil, clientError("tagKeys must contain at least one key")
	}
	tags, ok := s.tagsOf(arn)
	if !ok {
		return nil, clientError("Resource %s does not exist", arn)
	}
	for _, k := range keys {
		delete(*tags, k)
	}
	if len(*tags) == 0 {
		*tags = nil
	}
	return struct{}{}, nil
}

func listTagsForResource(s *Service, r *http.Request, _ []byte) (any, error) {
	arn, err := resourceARN(r)
	if err != nil {
		return nil, clientError("resourceArn is not a valid ARN")
	}
	tags, ok := s.tagsOf(arn)
	if !ok {
		return nil, clientError("Resource %s does not exist", arn)
	}
	out := map[string]string{}
	for k, v := range *tags {
		out[k] = v
	}
	return struct {
		Tags map[string]string `json:"tags"`
	}{out}, nil
}
