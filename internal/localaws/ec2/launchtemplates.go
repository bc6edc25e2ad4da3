package ec2

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

type launchTemplate struct {
	id, name       string
	created        string
	defaultVersion int
	latestVersion  int
	versions       []*templateVersion // ascending by number
}

type templateVersion struct {
	number      int
	description string
	created     string
	data        templateData
}

// templateData is the part of a launch template's data the stand-in keeps,
// in the shape DescribeLaunchTemplateVersions answers it.
type templateData struct {
	BlockDeviceMappings []blockDeviceXML `xml:"blockDeviceMappingSet>item"`
	EbsOptimized        *bool            `xml:"ebsOptimized"`
	IamInstanceProfile  *profileXML      `xml:"iamInstanceProfile"`
	ImageID             string           `xml:"imageId,omitempty"`
	InstanceType        string           `xml:"instanceType,omitempty"`
	KeyName             string           `xml:"keyName,omitempty"`
	MetadataOptions     *metadataXML     `xml:"metadataOptions"`
	SecurityGroupIDs    []string         `xml:"securityGroupIdSet>item"`
	SecurityGroups      []string         `xml:"securityGroupSet>item"`
	TagSpecifications   []tagSpecXML     `xml:"tagSpecificationSet>item"`
	UserData            string           `xml:"userData,omitempty"`
}

type profileXML struct {
	ARN  string `xml:"arn,omitempty"`
	Name string `xml:"name,omitempty"`
}

type metadataXML struct {
	HTTPTokens              string `xml:"httpTokens,omitempty"`
	HTTPPutResponseHopLimit *int   `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint,omitempty"`
	HTTPProtocolIPv6        string `xml:"httpProtocolIpv6,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
}

type blockDeviceXML struct {
	DeviceName  string  `xml:"deviceName,omitempty"`
	VirtualName string  `xml:"virtualName,omitempty"`
	NoDevice    string  `xml:"noDevice,omitempty"`
	Ebs         *ebsXML `xml:"ebs"`
}

type ebsXML struct {
	DeleteOnTermination *bool  `xml:"deleteOnTermination"`
	Encrypted           *bool  `xml:"encrypted"`
	Iops                *int   `xml:"iops"`
	KmsKeyID            string `xml:"kmsKeyId,omitempty"`
	SnapshotID          string `xml:"snapshotId,omitempty"`
	Throughput          *int   `xml:"throughput"`
	VolumeSize          *int   `xml:"volumeSize"`
	VolumeType          string `xml:"volumeType,omitempty"`
}

type tagSpecXML struct {
	ResourceType string   `xml:"resourceType"`
	Tags         []tagXML `xml:"tagSet>item"`
}

// EC2's launch template rules.
var (
	templateNameRE = awsproto.Pattern(`^[a-zA-Z0-9().\-/_]{3,128}$`)
	templateIDRE   = awsproto.Pattern(`^lt-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

const maxUserData = 16384 // bytes, once decoded

// dataTagTypes are the resource types a launch template's data may tag.
var dataTagTypes = []string{"instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu"}

var volumeTypes = []string{"standard", "io1", "io2", "gp2", "gp3", "sc1", "st1"}

func optBool(p params, key string) *bool {
	if v := p.str(key); v != "" {
		b := v == "true"
		return &b
	}
	return nil
}

// parseData reads LaunchTemplateData over base: a field the request sets
// replaces base's, as a new version from a SourceVersion does.
func parseData(p params, base templateData) (templateData, error) {
	d := base
	if p.has("UserData") {
		raw, err := base64.StdEncoding.DecodeString(p.str("UserData"))
		if err != nil {
			return d, awsErr(http.StatusBadRequest, "InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.")
		}
		if len(raw) > maxUserData {
			return d, awsErr(http.StatusBadRequest, "InvalidUserData.Malformed", "User data is limited to %d bytes.", maxUserData)
		}
		d.UserData = p.str("UserData")
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"ImageId", &d.ImageID}, {"InstanceType", &d.InstanceType}, {"KeyName", &d.KeyName}} {
		if p.has(k.key) {
			*k.dst = p.str(k.key)
		}
	}
	if b := optBool(p, "EbsOptimized"); b != nil {
		d.EbsOptimized = b
	}
	if p.has("IamInstanceProfile") {
		ip := p.sub("IamInstanceProfile")
		d.IamInstanceProfile = &profileXML{ARN: ip.str("Arn"), Name: ip.str("Name")}
		if d.IamInstanceProfile.ARN != "" && d.IamInstanceProfile.Name != "" {
			return d, awsErr(http.StatusBadRequest, "InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
		}
	}
	if p.has("MetadataOptions") {
		m, err := parseMetadata(p.sub("MetadataOptions"))
		if err != nil {
			return d, err
		}
		d.MetadataOptions = m
	}
	if p.has("SecurityGroupId") {
		d.SecurityGroupIDs = p.strings("SecurityGroupId")
	}
	if p.has("SecurityGroup") {
		d.SecurityGroups = p.strings("SecurityGroup")
	}
	if p.has("BlockDeviceMapping") {
		d.BlockDeviceMappings = nil
		for _, b := range p.list("BlockDeviceMapping") {
			bd, err := parseBlockDevice(b)
			if err != nil {
				return d, err
			}
			d.BlockDeviceMappings = append(d.BlockDeviceMappings, bd)
		}
	}
	if p.has("TagSpecification") {
		d.TagSpecifications = nil
		for _, spec := range p.list("TagSpecification") {
			rt := spec.str("ResourceType")
			if !slices.Contains(dataTagTypes, rt) {
				return d, invalidParameterValue("'%s' is not a valid taggable resource type for launch template data. Valid types: %s.", rt, strings.Join(dataTagTypes, ", "))
			}
			tags, err := parseTags(spec, "Tag")
			if err != nil {
				return d, err
			}
			ts := tagSpecXML{ResourceType: rt}
			for _, k := range sortedKeys(tags) {
				ts.Tags = append(ts.Tags, tagXML{k, tags[k]})
			}
			d.TagSpecifications = append(d.TagSpecifications, ts)
		}
	}
	return d, nil
}

func parseMetadata(p params) (*metadataXML, error) {
	m := &metadataXML{
		HTTPTokens: p.str("HttpTokens"), HTTPEndpoint: p.str("HttpEndpoint"),
		HTTPProtocolIPv6: p.str("HttpProtocolIpv6"), InstanceMetadataTags: p.str("InstanceMetadataTags"),
	}
	oneOf := func(param, v string, allowed ...string) error {
		if v != "" && !slices.Contains(allowed, v) {
			return invalidParameterValue("Value (%s) for parameter %s is invalid. Valid values: %s.", v, param, strings.Join(allowed, ", "))
		}
		return nil
	}
	for _, err := range []error{
		oneOf("HttpTokens", m.HTTPTokens, "optional", "required"),
		oneOf("HttpEndpoint", m.HTTPEndpoint, "enabled", "disabled"),
		oneOf("HttpProtocolIpv6", m.HTTPProtocolIPv6, "enabled", "disabled"),
		oneOf("InstanceMetadataTags", m.InstanceMetadataTags, "enabled", "disabled"),
	} {
		if err != nil {
			return nil, err
		}
	}
	hop, err := p.integer("HttpPutResponseHopLimit")
	if err != nil {
		return nil, err
	}
	if hop != nil && (*hop < 1 || *hop > 64) {
		return nil, invalidParameterValue("Value (%d) for parameter HttpPutResponseHopLimit is invalid. Valid values are from 1 to 64.", *hop)
	}
	m.HTTPPutResponseHopLimit = hop
	return m, nil
}

func parseBlockDevice(p params) (blockDeviceXML, error) {
	b := blockDeviceXML{DeviceName: p.str("DeviceName"), VirtualName: p.str("VirtualName"), NoDevice: p.str("NoDevice")}
	if !p.has("Ebs") {
		return b, nil
	}
	e := p.sub("Ebs")
	x := &ebsXML{
		DeleteOnTermination: optBool(e, "DeleteOnTermination"), Encrypted: optBool(e, "Encrypted"),
		KmsKeyID: e.str("KmsKeyId"), SnapshotID: e.str("SnapshotId"), VolumeType: e.str("VolumeType"),
	}
	var err error
	for _, f := range []struct {
		key string
		dst **int
	}{{"Iops", &x.Iops}, {"Throughput", &x.Throughput}, {"VolumeSize", &x.VolumeSize}} {
		if *f.dst, err = e.integer(f.key); err != nil {
			return b, err
		}
	}
	if x.VolumeType != "" && !slices.Contains(volumeTypes, x.VolumeType) {
		return b, invalidParameterValue("Value (%s) for parameter volumeType is invalid. Valid values: %s.", x.VolumeType, strings.Join(volumeTypes, ", "))
	}
	if x.VolumeSize != nil && (*x.VolumeSize < 1 || *x.VolumeSize > 65536) {
		return b, invalidParameterValue("Value (%d) for parameter volumeSize is invalid.", *x.VolumeSize)
	}
	b.Ebs = x
	return b, nil
}

func templateIDNotFound(id string) *awsproto.Error {
	return awsErr(http.StatusBadRequest, "InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
}

func templateNameNotFound(name string) *awsproto.Error {
	return awsErr(http.StatusBadRequest, "InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
}

// templateByID tells a malformed ID from a missing one. The caller holds
// s.mu.
func (s *Service) templateByID(id string) (*launchTemplate, error) {
	if !templateIDRE().MatchString(id) {
		return nil, awsErr(http.StatusBadRequest, "InvalidLaunchTemplateId.Malformed", "The specified ID for the launch template, %s, is not valid. Check the ID and try again.", id)
	}
	t, ok := s.templates[id]
	if !ok {
		return nil, templateIDNotFound(id)
	}
	return t, nil
}

func (s *Service) templateByName(name string) *launchTemplate {
	for _, t := range s.templates {
		if t.name == name {
			return t
		}
	}
	return nil
}

// templateFrom resolves a call's LaunchTemplateId or LaunchTemplateName,
// exactly one of which it must have. The caller holds s.mu.
func (s *Service) templateFrom(p params) (*launchTemplate, error) {
	id, name := p.str("LaunchTemplateId"), p.str("LaunchTemplateName")
	switch {
	case id != "" && name != "":
		return nil, awsErr(http.StatusBadRequest, "InvalidParameterCombination", "You can specify either a launch template ID or a launch template name in the request, not both.")
	case id != "":
		return s.templateByID(id)
	case name != "":
		if t := s.templateByName(name); t != nil {
			return t, nil
		}
		return nil, templateNameNotFound(name)
	}
	return nil, missingParameter("launchTemplateId or launchTemplateName")
}

// version resolves a version by number, $Latest or $Default.
func (t *launchTemplate) version(v string) (*templateVersion, error) {
	n := 0
	switch v {
	case "$Latest":
		n = t.latestVersion
	case "$Default":
		n = t.defaultVersion
	default:
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return nil, invalidParameterValue("Value (%s) for parameter version is invalid. A version must be a number, $Latest or $Default.", v)
		}
	}
	for _, tv := range t.versions {
		if tv.number == n {
			return tv, nil
		}
	}
	return nil, awsErr(http.StatusBadRequest, "InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s.", v, t.id)
}

type launchTemplateXML struct {
	ID                   string   `xml:"launchTemplateId"`
	Name                 string   `xml:"launchTemplateName"`
	CreateTime           string   `xml:"createTime"`
	CreatedBy            string   `xml:"createdBy"`
	DefaultVersionNumber int      `xml:"defaultVersionNumber"`
	LatestVersionNumber  int      `xml:"latestVersionNumber"`
	TagSet               []tagXML `xml:"tagSet>item"`
}

type templateVersionXML struct {
	ID                 string       `xml:"launchTemplateId"`
	Name               string       `xml:"launchTemplateName"`
	VersionNumber      int          `xml:"versionNumber"`
	VersionDescription string       `xml:"versionDescription,omitempty"`
	CreateTime         string       `xml:"createTime"`
	CreatedBy          string       `xml:"createdBy"`
	DefaultVersion     bool         `xml:"defaultVersion"`
	Data               templateData `xml:"launchTemplateData"`
}

func (s *Service) createdBy() string { return "arn:aws:iam::" + s.env.Account + ":root" }

// templateXML renders a template. The caller holds s.mu.
func (s *Service) templateXML(t *launchTemplate) launchTemplateXML {
	return launchTemplateXML{
		ID: t.id, Name: t.name, CreateTime: t.created, CreatedBy: s.createdBy(),
		DefaultVersionNumber: t.defaultVersion, LatestVersionNumber: t.latestVersion, TagSet: s.tagSet(t.id),
	}
}

func (s *Service) versionXML(t *launchTemplate, v *templateVersion) templateVersionXML {
	return templateVersionXML{
		ID: t.id, Name: t.name, VersionNumber: v.number, VersionDescription: v.description,
		CreateTime: v.created, CreatedBy: s.createdBy(), DefaultVersion: v.number == t.defaultVersion, Data: v.data,
	}
}

func versionDescription(p params) (string, error) {
	d := p.str("VersionDescription")
	if len(d) > 255 {
		return "", invalidParameterValue("Value for parameter versionDescription is invalid. It may be up to 255 characters.")
	}
	return d, nil
}

func (s *Service) createLaunchTemplate(p params) (any, error) {
	name := p.str("LaunchTemplateName")
	if name == "" {
		return nil, missingParameter("launchTemplateName")
	}
	if !templateNameRE().MatchString(name) {
		return nil, awsErr(http.StatusBadRequest, "InvalidLaunchTemplateName.MalformedException",
			"A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.")
	}
	desc, err := versionDescription(p)
	if err != nil {
		return nil, err
	}
	data, err := parseData(p.sub("LaunchTemplateData"), templateData{})
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "TagSpecification", "launch-template")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.templateByName(name) != nil {
		return nil, awsErr(http.StatusBadRequest, "InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	}
	now := s.now()
	t := &launchTemplate{
		id: newID("lt"), name: name, created: now, defaultVersion: 1, latestVersion: 1,
		versions: []*templateVersion{{number: 1, description: desc, created: now, data: data}},
	}
	s.templates[t.id] = t
	// A new resource cannot pass the tag limit: tagSpecifications checked it.
	_ = s.setTags(t.id, tags)
	return struct {
		Template launchTemplateXML `xml:"launchTemplate"`
	}{s.templateXML(t)}, nil
}

func (s *Service) createLaunchTemplateVersion(p params) (any, error) {
	desc, err := versionDescription(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.templateFrom(p)
	if err != nil {
		return nil, err
	}
	var base templateData
	if src := p.str("SourceVersion"); src != "" {
		v, err := t.version(src)
		if err != nil {
			return nil, err
		}
		base = v.data
	}
	data, err := parseData(p.sub("LaunchTemplateData"), base)
	if err != nil {
		return nil, err
	}
	t.latestVersion++
	v := &templateVersion{number: t.latestVersion, description: desc, created: s.now(), data: data}
	t.versions = append(t.versions, v)
	return struct {
		Version templateVersionXML `xml:"launchTemplateVersion"`
	}{s.versionXML(t, v)}, nil
}

func (s *Service) describeLaunchTemplates(p params) (any, error) {
	ids, names, filters := p.strings("LaunchTemplateId"), p.strings("LaunchTemplateName"), p.filters()
	s.mu.Lock()
	defer s.mu.Unlock()
	var picked []*launchTemplate
	for _, id := range ids {
		t, err := s.templateByID(id)
		if err != nil {
			return nil, err
		}
		picked = append(picked, t)
	}
	for _, name := range names {
		t := s.templateByName(name)
		if t == nil {
			return nil, awsErr(http.StatusBadRequest, "InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
		}
		picked = append(picked, t)
	}
	if len(ids) == 0 && len(names) == 0 {
		for _, t := range s.templates {
			picked = append(picked, t)
		}
	}
	slices.SortFunc(picked, func(a, b *launchTemplate) int { return strings.Compare(a.name, b.name) })
	picked = slices.Compact(picked)
	var out []launchTemplateXML
	for _, t := range picked {
		ok, err := matchFilters(filters, s.tags[t.id], func(name string) ([]string, bool) {
			switch name {
			case "launch-template-name":
				return []string{t.name}, true
			case "create-time":
				return []string{t.created}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s.templateXML(t))
		}
	}
	out, next, err := page(p, out, 1, 200)
	if err != nil {
		return nil, err
	}
	return struct {
		Templates []launchTemplateXML `xml:"launchTemplates>item"`
		NextToken string              `xml:"nextToken,omitempty"`
	}{out, next}, nil
}

func (s *Service) describeLaunchTemplateVersions(p params) (any, error) {
	versions, filters := p.strings("LaunchTemplateVersion"), p.filters()
	minV, err := p.integer("MinVersion")
	if err != nil {
		return nil, err
	}
	maxV, err := p.integer("MaxVersion")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var templates []*launchTemplate
	if p.str("LaunchTemplateId") == "" && p.str("LaunchTemplateName") == "" {
		// Without a template, only $Latest and $Default may be asked for,
		// across every template.
		if len(versions) == 0 {
			return nil, missingParameter("launchTemplateId or launchTemplateName")
		}
		for _, v := range versions {
			if v != "$Latest" && v != "$Default" {
				return nil, invalidParameterValue("Without a launch template ID or name, the versions must be $Latest or $Default, not %s.", v)
			}
		}
		for _, t := range s.templates {
			templates = append(templates, t)
		}
		slices.SortFunc(templates, func(a, b *launchTemplate) int { return strings.Compare(a.name, b.name) })
	} else {
		t, err := s.templateFrom(p)
		if err != nil {
			return nil, err
		}
		templates = []*launchTemplate{t}
	}
	var out []templateVersionXML
	for _, t := range templates {
		var picked []*templateVersion
		if len(versions) > 0 {
			for _, v := range versions {
				tv, err := t.version(v)
				if err != nil {
					return nil, err
				}
				if !slices.Contains(picked, tv) {
					picked = append(picked, tv)
				}
			}
		} else {
			picked = slices.Clone(t.versions)
		}
		// EC2 lists the newest version first.
		slices.SortFunc(picked, func(a, b *templateVersion) int { return b.number - a.number })
		for _, v := range picked {
			if minV != nil && v.number < *minV || maxV != nil && v.number > *maxV {
				continue
			}
			ok, err := matchFilters(filters, nil, func(name string) ([]string, bool) {
				switch name {
				case "is-default-version":
					return []string{strconv.FormatBool(v.number == t.defaultVersion)}, true
				case "image-id":
					return []string{v.data.ImageID}, true
				case "instance-type":
					return []string{v.data.InstanceType}, true
				case "iam-instance-profile":
					if v.data.IamInstanceProfile == nil {
						return nil, true
					}
					return []string{v.data.IamInstanceProfile.ARN, v.data.IamInstanceProfile.Name}, true
				}
				return nil, false
			})
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, s.versionXML(t, v))
			}
		}
	}
	out, next, err := page(p, out, 1, 200)
	if err != nil {
		return nil, err
	}
	return struct {
		Versions  []templateVersionXML `xml:"launchTemplateVersionSet>item"`
		NextToken string               `xml:"nextToken,omitempty"`
	}{out, next}, nil
}

func (s *Service) modifyLaunchTemplate(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.templateFrom(p)
	if err != nil {
		return nil, err
	}
	if d := p.str("SetDefaultVersion"); d != "" {
		v, err := t.version(d)
		if err != nil {
			return nil, err
		}
		t.defaultVersion = v.number
	}
	return struct {
		Template launchTemplateXML `xml:"launchTemplate"`
	}{s.templateXML(t)}, nil
}

func (s *Service) deleteLaunchTemplate(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.templateFrom(p)
	if err != nil {
		return nil, err
	}
	out := s.templateXML(t)
	delete(s.templates, t.id)
	delete(s.tags, t.id)
	return struct {
		Template launchTemplateXML `xml:"launchTemplate"`
	}{out}, nil
}
