package logs

import (
	"encoding/base64"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// CloudWatch Logs' documented name syntax.
var (
	// Lengths are checked apart from the patterns: a bounded repetition
	// such as {1,512} compiles to 512 copies, which cost every batchxray
	// command 30 ms and 15 MB at start-up.
	groupNameRE  = awsproto.Pattern(`^[.\-_/#A-Za-z0-9]+$`)
	streamNameRE = awsproto.Pattern(`^[^:*]+$`)
	tagRE        = awsproto.Pattern(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// retentionDays are the only values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

const maxTags = 50

func (s *Service) groupARN(name string) string {
	return s.env.ARN("logs", s.env.Region, "log-group:"+name)
}

// group resolves a log group by name or identifier (name or ARN). The
// caller holds s.mu.
func (s *Service) group(name, identifier string) (*logGroup, error) {
	switch {
	case name != "" && identifier != "":
		return nil, invalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case identifier != "":
		name = s.nameFromIdentifier(identifier)
	case name == "":
		return nil, invalidParameter("Either logGroupName or logGroupIdentifier must be specified.")
	}
	g, ok := s.groups[name]
	if !ok {
		return nil, notFound("The specified log group does not exist.")
	}
	return g, nil
}

// nameFromIdentifier accepts a log group's name or its ARN, with or without
// the trailing ":*" DescribeLogGroups shows.
func (s *Service) nameFromIdentifier(id string) string {
	if rest, ok := strings.CutPrefix(id, s.groupARN("")); ok {
		return strings.TrimSuffix(rest, ":*")
	}
	return id
}

func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagRE().MatchString(k) || strings.HasPrefix(k, "aws:") {
			return invalidParameter("Invalid tag key %q: 1 to 128 letters, digits, spaces or _.:/=+-@, not starting with aws:.", k)
		}
		if utf8.RuneCountInString(v) > 256 || !tagRE().MatchString(v) {
			return invalidParameter("Invalid tag value %q for key %q: up to 256 letters, digits, spaces or _.:/=+-@.", v, k)
		}
	}
	return nil
}

type createLogGroupInput struct {
	LogGroupName  string            `json:"logGroupName"`
	LogGroupClass string            `json:"logGroupClass"`
	Tags          map[string]string `json:"tags"`
}

func (s *Service) createLogGroup(in createLogGroupInput) (any, error) {
	if n := len(in.LogGroupName); n < 1 || n > 512 || !groupNameRE().MatchString(in.LogGroupName) {
		return nil, invalidParameter("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ and have length 1 to 512", in.LogGroupName)
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxTags {
		return nil, invalidParameter("A log group can have at most %d tags; the request has %d.", maxTags, len(in.Tags))
	}
	class := in.LogGroupClass
	switch class {
	case "":
		class = "STANDARD"
	case "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		return nil, invalidParameter("Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]", class)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[in.LogGroupName]; ok {
		return nil, alreadyExists("The specified log group already exists")
	}
	tags := maps.Clone(in.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	s.groups[in.LogGroupName] = &logGroup{
		name: in.LogGroupName, created: s.env.Clock.Now(), class: class,
		tags: tags, streams: map[string]*logStream{},
	}
	return nil, nil
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   int    `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	ARN               string `json:"arn"`
	LogGroupARN       string `json:"logGroupArn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
}

func (s *Service) groupOut(g *logGroup) logGroupOut {
	var stored int64
	for _, st := range g.streams {
		stored += st.storedBytes
	}
	return logGroupOut{
		LogGroupName: g.name, CreationTime: g.created.UnixMilli(), RetentionInDays: g.retention,
		ARN: s.groupARN(g.name) + ":*", LogGroupARN: s.groupARN(g.name),
		StoredBytes: stored, LogGroupClass: g.class,
	}
}

type describeLogGroupsInput struct {
	LogGroupNamePrefix  string   `json:"logGroupNamePrefix"`
	LogGroupNamePattern string   `json:"logGroupNamePattern"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	Limit               *int     `json:"limit"`
	NextToken           string   `json:"nextToken"`
}

func (s *Service) describeLogGroups(in describeLogGroupsInput) (any, error) {
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit, err := pageLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	start, err := offset(in.NextToken)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids map[string]bool
	if len(in.LogGroupIdentifiers) > 0 {
		ids = map[string]bool{}
		for _, id := range in.LogGroupIdentifiers {
			ids[s.nameFromIdentifier(id)] = true
		}
	}
	var out []logGroupOut
	for _, name := range slices.Sorted(maps.Keys(s.groups)) {
		if !strings.HasPrefix(name, in.LogGroupNamePrefix) ||
			!strings.Contains(strings.ToLower(name), strings.ToLower(in.LogGroupNamePattern)) ||
			ids != nil && !ids[name] {
			continue
		}
		out = append(out, s.groupOut(s.groups[name]))
	}
	page, next := paginate(out, start, limit)
	return struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type groupInput struct {
	LogGroupName string `json:"logGroupName"`
}

func (s *Service) deleteLogGroup(in groupInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[in.LogGroupName]; !ok {
		return nil, notFound("The specified log group does not exist.")
	}
	delete(s.groups, in.LogGroupName)
	return nil, nil
}

type streamInput struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
}

func (s *Service) createLogStream(in streamInput) (any, error) {
	if n := utf8.RuneCountInString(in.LogStreamName); n < 1 || n > 512 || !streamNameRE().MatchString(in.LogStreamName) {
		return nil, invalidParameter("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]* and have length 1 to 512", in.LogStreamName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	if _, ok := g.streams[in.LogStreamName]; ok {
		return nil, alreadyExists("The specified log stream already exists")
	}
	g.streams[in.LogStreamName] = &logStream{name: in.LogStreamName, created: s.env.Clock.Now()}
	return nil, nil
}

func (s *Service) deleteLogStream(in streamInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	if _, ok := g.streams[in.LogStreamName]; !ok {
		return nil, notFound("The specified log stream does not exist.")
	}
	delete(g.streams, in.LogStreamName)
	return nil, nil
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
	ARN                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsInput struct {
	LogGroupName        string `json:"logGroupName"`
	LogGroupIdentifier  string `json:"logGroupIdentifier"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	Limit               *int   `json:"limit"`
	NextToken           string `json:"nextToken"`
}

func (s *Service) describeLogStreams(in describeLogStreamsInput) (any, error) {
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.LogStreamNamePrefix != "" {
			return nil, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, invalidParameter("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", in.OrderBy)
	}
	limit, err := pageLimit(in.Limit, 50)
	if err != nil {
		return nil, err
	}
	start, err := offset(in.NextToken)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var out []logStreamOut
	for _, st := range g.streams {
		if !strings.HasPrefix(st.name, in.LogStreamNamePrefix) {
			continue
		}
		o := logStreamOut{
			LogStreamName: st.name, CreationTime: st.created.UnixMilli(),
			LastIngestionTime: st.lastIngestion, StoredBytes: st.storedBytes,
			ARN: s.groupARN(g.name) + ":log-stream:" + st.name,
		}
		if n := len(st.events); n > 0 {
			o.FirstEventTimestamp, o.LastEventTimestamp = st.events[0].ts, st.events[n-1].ts
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b logStreamOut) int {
		if in.OrderBy == "LastEventTime" && a.LastEventTimestamp != b.LastEventTimestamp {
			return cmpInt(a.LastEventTimestamp, b.LastEventTimestamp)
		}
		return strings.Compare(a.LogStreamName, b.LogStreamName)
	})
	if in.Descending {
		slices.Reverse(out)
	}
	page, next := paginate(out, start, limit)
	return struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{page, next}, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type putRetentionPolicyInput struct {
	LogGroupName    string `json:"logGroupName"`
	RetentionInDays int    `json:"retentionInDays"`
}

func (s *Service) putRetentionPolicy(in putRetentionPolicyInput) (any, error) {
	if !slices.Contains(retentionDays, in.RetentionInDays) {
		return nil, invalidParameter("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: %v", in.RetentionInDays, retentionDays)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	g.retention = in.RetentionInDays
	return nil, nil
}

func (s *Service) deleteRetentionPolicy(in groupInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	g.retention = 0
	return nil, nil
}

// groupByARN resolves TagResource's resourceArn, which names a log group
// without the trailing ":*". The caller holds s.mu.
func (s *Service) groupByARN(arn string) (*logGroup, error) {
	name, ok := strings.CutPrefix(strings.TrimSuffix(arn, ":*"), s.groupARN(""))
	if !ok || name == "" {
		if strings.HasPrefix(arn, "arn:") {
			return nil, notFound("The specified resource does not exist: %s", arn)
		}
		return nil, invalidParameter("Invalid ARN: %s", arn)
	}
	g, ok := s.groups[name]
	if !ok {
		return nil, notFound("The specified resource does not exist: %s", arn)
	}
	return g, nil
}

// addTags merges tags into g, refusing to go past the limit with code.
func addTags(g *logGroup, tags map[string]string, limitCode string) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	merged := maps.Clone(g.tags)
	maps.Copy(merged, tags)
	if len(merged) > maxTags {
		e := invalidParameter("A log group can have at most %d tags.", maxTags)
		e.Code = limitCode
		return e
	}
	g.tags = merged
	return nil
}

type tagResourceInput struct {
	ResourceARN string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
	TagKeys     []string          `json:"tagKeys"`
}

type tagsOut struct {
	Tags map[string]string `json:"tags"`
}

func (s *Service) tagResource(in tagResourceInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return nil, addTags(g, in.Tags, "TooManyTagsException")
}

func (s *Service) untagResource(in tagResourceInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(g.tags, k)
	}
	return nil, nil
}

func (s *Service) listTagsForResource(in tagResourceInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return tagsOut{maps.Clone(g.tags)}, nil
}

type tagLogGroupInput struct {
	LogGroupName string            `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

func (s *Service) tagLogGroup(in tagLogGroupInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	return nil, addTags(g, in.Tags, "InvalidParameterException")
}

type untagLogGroupInput struct {
	LogGroupName string   `json:"logGroupName"`
	Tags         []string `json:"tags"`
}

func (s *Service) untagLogGroup(in untagLogGroupInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	for _, k := range in.Tags {
		delete(g.tags, k)
	}
	return nil, nil
}

func (s *Service) listTagsLogGroup(in groupInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	return tagsOut{maps.Clone(g.tags)}, nil
}

// pageLimit checks a Describe call's limit (1 to max) and defaults it to max.
func pageLimit(limit *int, max int) (int, error) {
	if limit == nil {
		return max, nil
	}
	if *limit < 1 || *limit > max {
		return 0, invalidParameter("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, max)
	}
	return *limit, nil
}

// offset decodes a Describe call's nextToken: the position of the next item
// in the sorted listing.
func offset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, invalidParameter("The specified nextToken is invalid.")
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return 0, invalidParameter("The specified nextToken is invalid.")
	}
	return n, nil
}

func paginate[T any](items []T, start, limit int) ([]T, string) {
	if start >= len(items) {
		return []T{}, ""
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return items[start:end], next
}
