package ec2

import (
	"net/http"
	"strconv"
	"strings"
)

type vpc struct {
	id, cidr string
}

type subnet struct {
	id, zone, zoneID, cidr string
}

// zoneSuffixes are the default VPC's availability zones: a default subnet
// in each, as a fresh account has.
var zoneSuffixes = []string{"a", "b", "c"}

// zoneIDPrefix is a region's short form in zone IDs: us-east-1 → use1.
func zoneIDPrefix(region string) string {
	short := map[string]string{
		"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
	}
	parts := strings.Split(region, "-")
	var b strings.Builder
	for i, p := range parts {
		if s, ok := short[p]; ok && i > 0 {
			p = s
		}
		b.WriteString(p)
	}
	return b.String()
}

func (s *Service) createDefaultNetwork() {
	s.vpc = vpc{id: newID("vpc"), cidr: "172.31.0.0/16"}
	for i, suffix := range zoneSuffixes {
		s.subnets = append(s.subnets, subnet{
			id:     newID("subnet"),
			zone:   s.env.Region + suffix,
			zoneID: zoneIDPrefix(s.env.Region) + "-az" + strconv.Itoa(i+1),
			cidr:   "172.31." + strconv.Itoa(16*i) + ".0/20",
		})
	}
	g := &securityGroup{
		id: newID("sg"), name: "default", description: "default VPC security group", vpcID: s.vpc.id,
	}
	// The default group lets its members talk to each other and out to
	// anywhere.
	g.rules = []rule{
		{id: newID("sgr"), protocol: "-1", peer: peer{kind: peerGroup, value: g.id}},
		{id: newID("sgr"), egress: true, protocol: "-1", peer: peer{kind: peerCIDR4, value: "0.0.0.0/0"}},
	}
	s.groups[g.id] = g
}

type vpcXML struct {
	VpcID           string   `xml:"vpcId"`
	OwnerID         string   `xml:"ownerId"`
	State           string   `xml:"state"`
	CidrBlock       string   `xml:"cidrBlock"`
	CidrAssociation []cidrAs `xml:"cidrBlockAssociationSet>item"`
	DhcpOptionsID   string   `xml:"dhcpOptionsId"`
	InstanceTenancy string   `xml:"instanceTenancy"`
	IsDefault       bool     `xml:"isDefault"`
	TagSet          []tagXML `xml:"tagSet>item"`
}

type cidrAs struct {
	AssociationID string `xml:"associationId"`
	CidrBlock     string `xml:"cidrBlock"`
	State         string `xml:"cidrBlockState>state"`
}

func (s *Service) describeVpcs(p params) (any, error) {
	filters := p.filters()
	ids := p.strings("VpcId")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if id != s.vpc.id {
			return nil, awsErr(http.StatusBadRequest, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
		}
	}
	ok, err := matchFilters(filters, s.tags[s.vpc.id], func(name string) ([]string, bool) {
		switch name {
		case "vpc-id":
			return []string{s.vpc.id}, true
		case "isDefault", "is-default":
			return []string{"true"}, true
		case "cidr", "cidr-block-association.cidr-block":
			return []string{s.vpc.cidr}, true
		case "state":
			return []string{"available"}, true
		case "owner-id":
			return []string{s.env.Account}, true
		}
		return nil, false
	})
	if err != nil {
		return nil, err
	}
	out := struct {
		Vpcs []vpcXML `xml:"vpcSet>item"`
	}{}
	if ok && s.vpc.id != "" {
		out.Vpcs = append(out.Vpcs, vpcXML{
			VpcID: s.vpc.id, OwnerID: s.env.Account, State: "available", CidrBlock: s.vpc.cidr,
			CidrAssociation: []cidrAs{{AssociationID: "vpc-cidr-assoc-" + s.vpc.id[4:], CidrBlock: s.vpc.cidr, State: "associated"}},
			DhcpOptionsID:   "dopt-" + s.vpc.id[4:], InstanceTenancy: "default", IsDefault: true,
			TagSet: s.tagSet(s.vpc.id),
		})
	}
	return out, nil
}

type subnetXML struct {
	SubnetID                string   `xml:"subnetId"`
	SubnetArn               string   `xml:"subnetArn"`
	State                   string   `xml:"state"`
	VpcID                   string   `xml:"vpcId"`
	OwnerID                 string   `xml:"ownerId"`
	CidrBlock               string   `xml:"cidrBlock"`
	AvailableIPAddressCount int      `xml:"availableIpAddressCount"`
	AvailabilityZone        string   `xml:"availabilityZone"`
	AvailabilityZoneID      string   `xml:"availabilityZoneId"`
	DefaultForAz            bool     `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool     `xml:"mapPublicIpOnLaunch"`
	TagSet                  []tagXML `xml:"tagSet>item"`
}

func (s *Service) describeSubnets(p params) (any, error) {
	filters := p.filters()
	ids := p.strings("SubnetId")
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, id := range ids {
		found := false
		for _, sn := range s.subnets {
			found = found || sn.id == id
		}
		if !found {
			return nil, awsErr(http.StatusBadRequest, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
		want[id] = true
	}
	out := struct {
		Subnets []subnetXML `xml:"subnetSet>item"`
	}{}
	for _, sn := range s.subnets {
		if len(want) > 0 && !want[sn.id] {
			continue
		}
		ok, err := matchFilters(filters, s.tags[sn.id], func(name string) ([]string, bool) {
			switch name {
			case "vpc-id":
				return []string{s.vpc.id}, true
			case "subnet-id":
				return []string{sn.id}, true
			case "default-for-az", "defaultForAz":
				return []string{"true"}, true
			case "availability-zone", "availabilityZone":
				return []string{sn.zone}, true
			case "availability-zone-id", "availabilityZoneId":
				return []string{sn.zoneID}, true
			case "cidr-block", "cidr", "cidrBlock":
				return []string{sn.cidr}, true
			case "state":
				return []string{"available"}, true
			case "map-public-ip-on-launch":
				return []string{"true"}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Subnets = append(out.Subnets, subnetXML{
				SubnetID: sn.id, SubnetArn: s.env.ARN("ec2", s.env.Region, "subnet/"+sn.id), State: "available",
				VpcID: s.vpc.id, OwnerID: s.env.Account, CidrBlock: sn.cidr, AvailableIPAddressCount: 4091,
				AvailabilityZone: sn.zone, AvailabilityZoneID: sn.zoneID, DefaultForAz: true, MapPublicIPOnLaunch: true,
				TagSet: s.tagSet(sn.id),
			})
		}
	}
	return out, nil
}

type zoneXML struct {
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	ZoneState          string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
	OptInStatus        string `xml:"optInStatus"`
	ZoneType           string `xml:"zoneType"`
}

func (s *Service) describeAvailabilityZones(p params) (any, error) {
	names, ids, filters := p.strings("ZoneName"), p.strings("ZoneId"), p.filters()
	out := struct {
		Zones []zoneXML `xml:"availabilityZoneInfo>item"`
	}{}
	for _, sn := range s.subnets {
		if len(names) > 0 && !anyMatch(wildcards(names), []string{sn.zone}) || len(ids) > 0 && !anyMatch(wildcards(ids), []string{sn.zoneID}) {
			continue
		}
		ok, err := matchFilters(filters, nil, func(name string) ([]string, bool) {
			switch name {
			case "zone-name":
				return []string{sn.zone}, true
			case "zone-id":
				return []string{sn.zoneID}, true
			case "state":
				return []string{"available"}, true
			case "region-name":
				return []string{s.env.Region}, true
			case "zone-type":
				return []string{"availability-zone"}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Zones = append(out.Zones, zoneXML{
				ZoneName: sn.zone, ZoneID: sn.zoneID, ZoneState: "available", RegionName: s.env.Region,
				GroupName: s.env.Region, NetworkBorderGroup: s.env.Region, OptInStatus: "opt-in-not-required", ZoneType: "availability-zone",
			})
		}
	}
	return out, nil
}

func (s *Service) describeAccountAttributes(p params) (any, error) {
	type value struct {
		Value string `xml:"attributeValue"`
	}
	type attribute struct {
		Name   string  `xml:"attributeName"`
		Values []value `xml:"attributeValueSet>item"`
	}
	defaultVPC := s.vpc.id
	if defaultVPC == "" {
		defaultVPC = "none" // as EC2 says it
	}
	all := []attribute{
		{"supported-platforms", []value{{"VPC"}}},
		{"default-vpc", []value{{defaultVPC}}},
		{"max-instances", []value{{"20"}}},
		{"vpc-max-security-groups-per-interface", []value{{"5"}}},
	}
	names := p.strings("AttributeName")
	out := struct {
		Attributes []attribute `xml:"accountAttributeSet>item"`
	}{}
	for _, a := range all {
		if len(names) == 0 || anyMatch(wildcards(names), []string{a.Name}) {
			out.Attributes = append(out.Attributes, a)
		}
	}
	return out, nil
}
