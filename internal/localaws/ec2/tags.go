package ec2

import (
	"net/http"
	"strings"
)

// resourceType is the EC2 resource type an ID names, by its prefix.
func resourceType(id string) string {
	switch {
	case strings.HasPrefix(id, "sg-"):
		return "security-group"
	case strings.HasPrefix(id, "lt-"):
		return "launch-template"
	case strings.HasPrefix(id, "vpc-"):
		return "vpc"
	case strings.HasPrefix(id, "subnet-"):
		return "subnet"
	}
	return ""
}

// checkResource answers the error EC2 gives for tagging id when it does not
// exist. The caller holds s.mu.
func (s *Service) checkResource(id string) error {
	if !idRE().MatchString(id) {
		return awsErr(http.StatusBadRequest, "InvalidID", "The ID '%s' is not valid", id)
	}
	switch resourceType(id) {
	case "security-group":
		if _, ok := s.groups[id]; !ok {
			return groupNotFound(id)
		}
	case "launch-template":
		if _, ok := s.templates[id]; !ok {
			return templateIDNotFound(id)
		}
	case "vpc":
		if id != s.vpc.id {
			return awsErr(http.StatusBadRequest, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
		}
	case "subnet":
		for _, sn := range s.subnets {
			if sn.id == id {
				return nil
			}
		}
		return awsErr(http.StatusBadRequest, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	default:
		return awsErr(http.StatusBadRequest, "InvalidID", "The ID '%s' is not valid", id)
	}
	return nil
}

type returnXML struct {
	Return bool `xml:"return"`
}

func (s *Service) createTags(p params) (any, error) {
	ids := p.strings("ResourceId")
	if len(ids) == 0 {
		return nil, missingParameter("resourceIdSet")
	}
	tags, err := parseTags(p, "Tag")
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, missingParameter("tagSet")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if err := s.checkResource(id); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		if err := s.setTags(id, tags); err != nil {
			return nil, err
		}
	}
	return returnXML{true}, nil
}

func (s *Service) deleteTags(p params) (any, error) {
	ids := p.strings("ResourceId")
	if len(ids) == 0 {
		return nil, missingParameter("resourceIdSet")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if err := s.checkResource(id); err != nil {
			return nil, err
		}
	}
	list := p.list("Tag")
	for _, id := range ids {
		if len(list) == 0 {
			// No Tag deletes every tag the caller may delete.
			for k := range s.tags[id] {
				if !strings.HasPrefix(k, "aws:") {
					delete(s.tags[id], k)
				}
			}
		}
		for _, t := range list {
			k := t.str("Key")
			// A Tag with a Value deletes the tag only when the value
			// matches; an empty Value element means the empty value.
			if t.has("Value") && s.tags[id][k] != t.str("Value") {
				continue
			}
			delete(s.tags[id], k)
		}
		if len(s.tags[id]) == 0 {
			delete(s.tags, id)
		}
	}
	return returnXML{true}, nil
}

type tagDescriptionXML struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

func (s *Service) describeTags(p params) (any, error) {
	filters := p.filters()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tagDescriptionXML
	for _, id := range sortedKeys(s.tags) {
		for _, k := range sortedKeys(s.tags[id]) {
			d := tagDescriptionXML{id, resourceType(id), k, s.tags[id][k]}
			ok, err := matchFilters(filters, s.tags[id], func(name string) ([]string, bool) {
				switch name {
				case "resource-id":
					return []string{d.ResourceID}, true
				case "resource-type":
					return []string{d.ResourceType}, true
				case "key":
					return []string{d.Key}, true
				case "value":
					return []string{d.Value}, true
				}
				return nil, false
			})
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, d)
			}
		}
	}
	out, next, err := page(p, out, 5, 1000)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags      []tagDescriptionXML `xml:"tagSet>item"`
		NextToken string              `xml:"nextToken,omitempty"`
	}{out, next}, nil
}
