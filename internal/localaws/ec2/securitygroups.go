package ec2

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

type securityGroup struct {
	id, name, description, vpcID string
	rules                        []rule
}

type peerKind int

const (
	peerCIDR4 peerKind = iota
	peerCIDR6
	peerGroup
	peerPrefixList
)

// peer is the other end of a rule: one CIDR, group or prefix list. EC2
// keeps one rule per peer, whatever IpPermissions grouped them.
type peer struct {
	kind  peerKind
	value string
}

type rule struct {
	id          string
	egress      bool
	protocol    string // tcp, udp, icmp, icmpv6, -1 or a protocol number
	from, to    *int   // nil when the protocol has no ports
	peer        peer
	description string
}

// same reports whether two rules allow the same traffic: the description
// does not count, as EC2 compares them.
func (r rule) same(o rule) bool {
	return r.egress == o.egress && r.protocol == o.protocol && eqPort(r.from, o.from) && eqPort(r.to, o.to) && r.peer == o.peer
}

func eqPort(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// groupIDRE is a well-formed security group ID (8 or 17 hex digits).
var groupIDRE = awsproto.Pattern(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)

// groupCharsRE is what EC2 accepts in a VPC security group's name and
// description.
var groupCharsRE = awsproto.Pattern(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$`)

func malformedGroupID(id string) *awsproto.Error {
	return awsErr(http.StatusBadRequest, "InvalidGroupId.Malformed", "Invalid id: \"%s\" (expecting \"sg-...\")", id)
}

func groupNotFound(id string) *awsproto.Error {
	return awsErr(http.StatusBadRequest, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
}

// groupByID finds a group, telling a malformed ID from a missing one. The
// caller holds s.mu.
func (s *Service) groupByID(id string) (*securityGroup, error) {
	if !groupIDRE().MatchString(id) {
		return nil, malformedGroupID(id)
	}
	g, ok := s.groups[id]
	if !ok {
		return nil, groupNotFound(id)
	}
	return g, nil
}

// groupByName finds a group by name in the default VPC, as EC2 resolves a
// GroupName. The caller holds s.mu.
func (s *Service) groupByName(name string) (*securityGroup, error) {
	if s.vpc.id == "" {
		return nil, errNoDefaultVPC()
	}
	for _, g := range s.groups {
		if g.vpcID == s.vpc.id && g.name == name {
			return g, nil
		}
	}
	return nil, awsErr(http.StatusBadRequest, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, s.vpc.id)
}

// groupFrom resolves a call's GroupId or, failing that, GroupName. The
// caller holds s.mu.
func (s *Service) groupFrom(p params) (*securityGroup, error) {
	if id := p.str("GroupId"); id != "" {
		return s.groupByID(id)
	}
	if name := p.str("GroupName"); name != "" {
		return s.groupByName(name)
	}
	return nil, missingParameter("groupId")
}

func validGroupText(param, v string) error {
	switch {
	case len(v) > 255:
		return invalidParameterValue("Value (%s) for parameter %s is invalid. It may be up to 255 characters.", v, param)
	case !groupCharsRE().MatchString(v):
		return invalidParameterValue("Value (%s) for parameter %s is invalid. Character sets beyond ASCII are not supported.", v, param)
	}
	return nil
}

func (s *Service) createSecurityGroup(p params) (any, error) {
	name, desc := p.str("GroupName"), p.str("GroupDescription")
	switch {
	case name == "":
		return nil, missingParameter("groupName")
	case desc == "":
		return nil, missingParameter("groupDescription")
	case strings.HasPrefix(name, "sg-"):
		return nil, invalidParameterValue("Value (%s) for parameter GroupName is invalid. Group names may not be in the format sg-*.", name)
	case name == "default":
		return nil, awsErr(http.StatusBadRequest, "InvalidGroup.Reserved", "The security group 'default' is reserved")
	}
	if err := validGroupText("GroupName", name); err != nil {
		return nil, err
	}
	if err := validGroupText("GroupDescription", desc); err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "TagSpecification", "security-group")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vpcID := p.str("VpcId")
	if vpcID == "" {
		if s.vpc.id == "" {
			return nil, errNoDefaultVPC()
		}
		vpcID = s.vpc.id
	}
	if vpcID != s.vpc.id {
		return nil, awsErr(http.StatusBadRequest, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	for _, g := range s.groups {
		if g.vpcID == vpcID && g.name == name {
			return nil, awsErr(http.StatusBadRequest, "InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
	}
	g := &securityGroup{id: newID("sg"), name: name, description: desc, vpcID: vpcID}
	// A new group may send anywhere until told otherwise, as in EC2.
	g.rules = []rule{{id: newID("sgr"), egress: true, protocol: "-1", peer: peer{kind: peerCIDR4, value: "0.0.0.0/0"}}}
	s.groups[g.id] = g
	// A new resource cannot pass the tag limit: tagSpecifications checked it.
	_ = s.setTags(g.id, tags)
	return struct {
		GroupID string   `xml:"groupId"`
		TagSet  []tagXML `xml:"tagSet>item"`
		ARN     string   `xml:"securityGroupArn"`
	}{g.id, s.tagSet(g.id), s.groupARN(g.id)}, nil
}

func (s *Service) groupARN(id string) string {
	return s.env.ARN("ec2", s.env.Region, "security-group/"+id)
}

type ipRangeXML struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type ipv6RangeXML struct {
	CidrIPv6    string `xml:"cidrIpv6"`
	Description string `xml:"description,omitempty"`
}

type groupPairXML struct {
	GroupID     string `xml:"groupId"`
	UserID      string `xml:"userId"`
	Description string `xml:"description,omitempty"`
}

type prefixListXML struct {
	PrefixListID string `xml:"prefixListId"`
	Description  string `xml:"description,omitempty"`
}

type permissionXML struct {
	IPProtocol    string          `xml:"ipProtocol"`
	FromPort      *int            `xml:"fromPort"`
	ToPort        *int            `xml:"toPort"`
	Groups        []groupPairXML  `xml:"groups>item"`
	IPRanges      []ipRangeXML    `xml:"ipRanges>item"`
	IPv6Ranges    []ipv6RangeXML  `xml:"ipv6Ranges>item"`
	PrefixListIDs []prefixListXML `xml:"prefixListIds>item"`
}

type securityGroupXML struct {
	OwnerID             string          `xml:"ownerId"`
	GroupID             string          `xml:"groupId"`
	GroupName           string          `xml:"groupName"`
	GroupDescription    string          `xml:"groupDescription"`
	VpcID               string          `xml:"vpcId"`
	IPPermissions       []permissionXML `xml:"ipPermissions>item"`
	IPPermissionsEgress []permissionXML `xml:"ipPermissionsEgress>item"`
	TagSet              []tagXML        `xml:"tagSet>item"`
	ARN                 string          `xml:"securityGroupArn"`
}

// permissions groups a group's rules of one direction back into
// IpPermissions, one per protocol and port range, as EC2 describes them.
func (s *Service) permissions(rules []rule, egress bool) []permissionXML {
	var out []permissionXML
	for _, r := range rules {
		if r.egress != egress {
			continue
		}
		i := slices.IndexFunc(out, func(p permissionXML) bool {
			return p.IPProtocol == r.protocol && eqPort(p.FromPort, r.from) && eqPort(p.ToPort, r.to)
		})
		if i < 0 {
			out = append(out, permissionXML{IPProtocol: r.protocol, FromPort: r.from, ToPort: r.to})
			i = len(out) - 1
		}
		p := &out[i]
		switch r.peer.kind {
		case peerCIDR4:
			p.IPRanges = append(p.IPRanges, ipRangeXML{r.peer.value, r.description})
		case peerCIDR6:
			p.IPv6Ranges = append(p.IPv6Ranges, ipv6RangeXML{r.peer.value, r.description})
		case peerGroup:
			p.Groups = append(p.Groups, groupPairXML{r.peer.value, s.env.Account, r.description})
		case peerPrefixList:
			p.PrefixListIDs = append(p.PrefixListIDs, prefixListXML{r.peer.value, r.description})
		}
	}
	return out
}

func (s *Service) describeSecurityGroups(p params) (any, error) {
	ids, names, filters := p.strings("GroupId"), p.strings("GroupName"), p.filters()
	s.mu.Lock()
	defer s.mu.Unlock()
	var picked []*securityGroup
	for _, id := range ids {
		g, err := s.groupByID(id)
		if err != nil {
			return nil, err
		}
		picked = append(picked, g)
	}
	for _, name := range names {
		g, err := s.groupByName(name)
		if err != nil {
			return nil, err
		}
		picked = append(picked, g)
	}
	if len(ids) == 0 && len(names) == 0 {
		for _, g := range s.groups {
			picked = append(picked, g)
		}
	}
	slices.SortFunc(picked, func(a, b *securityGroup) int {
		return strings.Compare(a.name+"\x00"+a.id, b.name+"\x00"+b.id)
	})
	picked = slices.Compact(picked)
	var out []securityGroupXML
	for _, g := range picked {
		ok, err := matchFilters(filters, s.tags[g.id], func(name string) ([]string, bool) {
			switch name {
			case "group-name":
				return []string{g.name}, true
			case "group-id":
				return []string{g.id}, true
			case "vpc-id":
				return []string{g.vpcID}, true
			case "description":
				return []string{g.description}, true
			case "owner-id":
				return []string{s.env.Account}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, securityGroupXML{
				OwnerID: s.env.Account, GroupID: g.id, GroupName: g.name, GroupDescription: g.description, VpcID: g.vpcID,
				IPPermissions: s.permissions(g.rules, false), IPPermissionsEgress: s.permissions(g.rules, true),
				TagSet: s.tagSet(g.id), ARN: s.groupARN(g.id),
			})
		}
	}
	out, next, err := page(p, out, 5, 1000)
	if err != nil {
		return nil, err
	}
	return struct {
		Groups    []securityGroupXML `xml:"securityGroupInfo>item"`
		NextToken string             `xml:"nextToken,omitempty"`
	}{out, next}, nil
}

func (s *Service) deleteSecurityGroup(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupFrom(p)
	if err != nil {
		return nil, err
	}
	if g.name == "default" {
		return nil, awsErr(http.StatusBadRequest, "CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.id)
	}
	// A group another group's rules point at cannot go: EC2 would leave
	// those rules dangling.
	for _, other := range s.groups {
		if other.id == g.id {
			continue
		}
		for _, r := range other.rules {
			if r.peer == (peer{kind: peerGroup, value: g.id}) {
				return nil, awsErr(http.StatusBadRequest, "DependencyViolation", "resource %s has a dependent object", g.id)
			}
		}
	}
	delete(s.groups, g.id)
	delete(s.tags, g.id)
	return struct {
		Return  bool   `xml:"return"`
		GroupID string `xml:"groupId"`
	}{true, g.id}, nil
}

// normalProtocol spells a protocol as EC2 stores it: names in lower case,
// the well-known numbers as their names.
func normalProtocol(p string) (string, error) {
	switch strings.ToLower(p) {
	case "-1", "all":
		return "-1", nil
	case "tcp", "6":
		return "tcp", nil
	case "udp", "17":
		return "udp", nil
	case "icmp", "1":
		return "icmp", nil
	case "icmpv6", "58":
		return "icmpv6", nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return p, nil
	}
	return "", invalidParameterValue("Invalid value '%s' for IP protocol. Unknown protocol.", p)
}

// ports checks a permission's port range for its protocol.
func ports(protocol string, from, to *int) (*int, *int, error) {
	switch protocol {
	case "tcp", "udp":
		if from == nil || to == nil {
			return nil, nil, invalidParameterValue("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
		}
		if *from < 0 || *to > 65535 || *from > *to {
			return nil, nil, invalidParameterValue("Invalid TCP/UDP port range: from port %d, to port %d.", *from, *to)
		}
		return from, to, nil
	case "icmp", "icmpv6":
		if from == nil || to == nil {
			return nil, nil, invalidParameterValue("Invalid value 'Must specify both ICMP type and code.' for icmpTypeCode.")
		}
		if *from < -1 || *from > 255 || *to < -1 || *to > 255 {
			return nil, nil, invalidParameterValue("Invalid ICMP type %d or code %d.", *from, *to)
		}
		return from, to, nil
	}
	// All protocols, or one without ports: EC2 drops the range.
	return nil, nil, nil
}

func cidr(param, v string, v6 bool) error {
	pfx, err := netip.ParsePrefix(v)
	if err != nil || pfx.Addr().Is6() != v6 || pfx.Masked() != pfx {
		return invalidParameterValue("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", v, param)
	}
	return nil
}

// parseRules reads a call's IpPermissions (or the older top-level CidrIp,
// IpProtocol, FromPort and ToPort) into one rule per peer. The caller holds
// s.mu: group peers must exist.
func (s *Service) parseRules(p params, egress bool) ([]rule, error) {
	perms := p.list("IpPermissions")
	if len(perms) == 0 && p.str("IpProtocol") != "" {
		perms = []params{p}
	}
	if len(perms) == 0 {
		return nil, missingParameter("ipPermissions")
	}
	var out []rule
	for _, perm := range perms {
		proto, err := normalProtocol(perm.str("IpProtocol"))
		if err != nil {
			return nil, err
		}
		from, err := perm.integer("FromPort")
		if err != nil {
			return nil, err
		}
		to, err := perm.integer("ToPort")
		if err != nil {
			return nil, err
		}
		if from, to, err = ports(proto, from, to); err != nil {
			return nil, err
		}
		add := func(pr peer, desc string) error {
			if len(desc) > 255 || !groupCharsRE().MatchString(desc) {
				return invalidParameterValue("Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")
			}
			out = append(out, rule{egress: egress, protocol: proto, from: from, to: to, peer: pr, description: desc})
			return nil
		}
		n := len(out)
		if c := perm.str("CidrIp"); c != "" && perm.prefix == "" {
			if err := cidr("cidrIp", c, false); err != nil {
				return nil, err
			}
			if err := add(peer{peerCIDR4, c}, ""); err != nil {
				return nil, err
			}
		}
		for _, r := range perm.list("IpRanges") {
			if err := cidr("cidrIp", r.str("CidrIp"), false); err != nil {
				return nil, err
			}
			if err := add(peer{peerCIDR4, r.str("CidrIp")}, r.str("Description")); err != nil {
				return nil, err
			}
		}
		for _, r := range perm.list("Ipv6Ranges") {
			if err := cidr("cidrIpv6", r.str("CidrIpv6"), true); err != nil {
				return nil, err
			}
			if err := add(peer{peerCIDR6, r.str("CidrIpv6")}, r.str("Description")); err != nil {
				return nil, err
			}
		}
		for _, r := range perm.list("Groups") {
			var g *securityGroup
			if id := r.str("GroupId"); id != "" {
				g, err = s.groupByID(id)
			} else {
				g, err = s.groupByName(r.str("GroupName"))
			}
			if err != nil {
				return nil, err
			}
			if err := add(peer{peerGroup, g.id}, r.str("Description")); err != nil {
				return nil, err
			}
		}
		for _, r := range perm.list("PrefixListIds") {
			id := r.str("PrefixListId")
			if !strings.HasPrefix(id, "pl-") {
				return nil, awsErr(http.StatusBadRequest, "InvalidPrefixListId.Malformed", "The prefix list ID '%s' is malformed", id)
			}
			if err := add(peer{peerPrefixList, id}, r.str("Description")); err != nil {
				return nil, err
			}
		}
		if len(out) == n {
			return nil, missingParameter("ipPermissions.ipRanges, ipv6Ranges, groups or prefixListIds")
		}
	}
	return out, nil
}

// ruleText is how EC2 names a rule in its duplicate error.
func ruleText(r rule) string {
	ports := ""
	if r.from != nil {
		ports = fmt.Sprintf(", from port: %d, to port: %d", *r.from, *r.to)
	}
	return fmt.Sprintf("peer: %s, %s%s, ALLOW", r.peer.value, strings.ToUpper(r.protocol), ports)
}

type ruleXML struct {
	ID            string `xml:"securityGroupRuleId"`
	GroupID       string `xml:"groupId"`
	GroupOwnerID  string `xml:"groupOwnerId"`
	IsEgress      bool   `xml:"isEgress"`
	IPProtocol    string `xml:"ipProtocol"`
	FromPort      int    `xml:"fromPort"`
	ToPort        int    `xml:"toPort"`
	CidrIPv4      string `xml:"cidrIpv4,omitempty"`
	CidrIPv6      string `xml:"cidrIpv6,omitempty"`
	PrefixListID  string `xml:"prefixListId,omitempty"`
	ReferencedGrp *struct {
		GroupID string `xml:"groupId"`
		UserID  string `xml:"userId"`
	} `xml:"referencedGroupInfo"`
	Description string `xml:"description,omitempty"`
	ARN         string `xml:"securityGroupRuleArn"`
}

func (s *Service) ruleXML(g *securityGroup, r rule) ruleXML {
	x := ruleXML{
		ID: r.id, GroupID: g.id, GroupOwnerID: s.env.Account, IsEgress: r.egress, IPProtocol: r.protocol,
		FromPort: -1, ToPort: -1, Description: r.description,
		ARN: s.env.ARN("ec2", s.env.Region, "security-group-rule/"+r.id),
	}
	if r.from != nil {
		x.FromPort, x.ToPort = *r.from, *r.to
	}
	switch r.peer.kind {
	case peerCIDR4:
		x.CidrIPv4 = r.peer.value
	case peerCIDR6:
		x.CidrIPv6 = r.peer.value
	case peerPrefixList:
		x.PrefixListID = r.peer.value
	case peerGroup:
		x.ReferencedGrp = &struct {
			GroupID string `xml:"groupId"`
			UserID  string `xml:"userId"`
		}{r.peer.value, s.env.Account}
	}
	return x
}

func (s *Service) authorize(egress bool) handler {
	return func(p params) (any, error) {
		if _, err := tagSpecifications(p, "TagSpecification", "security-group-rule"); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		g, err := s.groupFrom(p)
		if err != nil {
			return nil, err
		}
		rules, err := s.parseRules(p, egress)
		if err != nil {
			return nil, err
		}
		for i, r := range rules {
			if slices.ContainsFunc(g.rules, r.same) || slices.ContainsFunc(rules[:i], r.same) {
				return nil, awsErr(http.StatusBadRequest, "InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", ruleText(r))
			}
		}
		var created []ruleXML
		for _, r := range rules {
			r.id = newID("sgr")
			g.rules = append(g.rules, r)
			created = append(created, s.ruleXML(g, r))
		}
		return struct {
			Return bool      `xml:"return"`
			Rules  []ruleXML `xml:"securityGroupRuleSet>item"`
		}{true, created}, nil
	}
}

func (s *Service) revoke(egress bool) handler {
	return func(p params) (any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		g, err := s.groupFrom(p)
		if err != nil {
			return nil, err
		}
		var gone []int
		if ids := p.strings("SecurityGroupRuleId"); len(ids) > 0 {
			for _, id := range ids {
				i := slices.IndexFunc(g.rules, func(r rule) bool { return r.id == id && r.egress == egress })
				if i < 0 {
					return nil, awsErr(http.StatusBadRequest, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
				}
				gone = append(gone, i)
			}
		} else {
			rules, err := s.parseRules(p, egress)
			if err != nil {
				return nil, err
			}
			for _, r := range rules {
				i := slices.IndexFunc(g.rules, r.same)
				if i < 0 {
					return nil, awsErr(http.StatusBadRequest, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
				}
				gone = append(gone, i)
			}
		}
		type revokedXML struct {
			ID         string `xml:"securityGroupRuleId"`
			GroupID    string `xml:"groupId"`
			IsEgress   bool   `xml:"isEgress"`
			IPProtocol string `xml:"ipProtocol"`
			FromPort   int    `xml:"fromPort"`
			ToPort     int    `xml:"toPort"`
			CidrIPv4   string `xml:"cidrIpv4,omitempty"`
			CidrIPv6   string `xml:"cidrIpv6,omitempty"`
			Prefix     string `xml:"prefixListId,omitempty"`
			Referenced string `xml:"referencedGroupId,omitempty"`
		}
		var revoked []revokedXML
		var kept []rule
		for i, r := range g.rules {
			if !slices.Contains(gone, i) {
				kept = append(kept, r)
				continue
			}
			x := s.ruleXML(g, r)
			rx := revokedXML{ID: x.ID, GroupID: g.id, IsEgress: r.egress, IPProtocol: r.protocol, FromPort: x.FromPort, ToPort: x.ToPort,
				CidrIPv4: x.CidrIPv4, CidrIPv6: x.CidrIPv6, Prefix: x.PrefixListID}
			if r.peer.kind == peerGroup {
				rx.Referenced = r.peer.value
			}
			revoked = append(revoked, rx)
		}
		g.rules = kept
		return struct {
			Return  bool         `xml:"return"`
			Revoked []revokedXML `xml:"revokedSecurityGroupRuleSet>item"`
		}{true, revoked}, nil
	}
}

// errNoDefaultVPC is EC2's answer to a call that leaves the VPC to the
// default one in an account without it: the code and the message's start
// are what such accounts get from CreateSecurityGroup without a VpcId
// ("VPCIdNotSpecified: No default VPC for this user", as users report it).
func errNoDefaultVPC() error {
	return awsErr(http.StatusBadRequest, "VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
}
