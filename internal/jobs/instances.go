package jobs

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// instance is an EC2 instance type's size.
type instance struct {
	Name   string
	VCPUs  int
	MemGiB int
}

// largestInFamily holds, per instance family Batch may be given (the
// bundles optimal, default_x86_64 and default_arm64, and common families),
// the largest sizes AWS documents for it. A job that fits none of them can
// never leave RUNNABLE. optimal covers c4, m4, r4, c5, m5 and r5 and, since
// November 2025, the default_x86_64 families too, so it lists both. It is
// built on first use, so that no command pays for it at start-up.
var largestInFamily = sync.OnceValue(func() map[string][]instance {
	m := map[string][]instance{
		"default_x86_64": {{"c7i.48xlarge", 192, 384}, {"m6i.32xlarge", 128, 512}, {"r6i.32xlarge", 128, 1024}, {"c6i.32xlarge", 128, 256}},
		"default_arm64":  {{"m6g.16xlarge", 64, 256}, {"r6g.16xlarge", 64, 512}, {"c6g.16xlarge", 64, 128}, {"c7g.16xlarge", 64, 128}},
		"c4":             {{"c4.8xlarge", 36, 60}},
		"m4":             {{"m4.16xlarge", 64, 256}},
		"r4":             {{"r4.16xlarge", 64, 488}},
		"c5":             {{"c5.24xlarge", 96, 192}},
		"m5":             {{"m5.24xlarge", 96, 384}},
		"r5":             {{"r5.24xlarge", 96, 768}},
		"c6i":            {{"c6i.32xlarge", 128, 256}},
		"m6i":            {{"m6i.32xlarge", 128, 512}},
		"r6i":            {{"r6i.32xlarge", 128, 1024}},
		"c7i":            {{"c7i.48xlarge", 192, 384}},
		"c6g":            {{"c6g.16xlarge", 64, 128}},
		"m6g":            {{"m6g.16xlarge", 64, 256}},
		"r6g":            {{"r6g.16xlarge", 64, 512}},
		"c7g":            {{"c7g.16xlarge", 64, 128}},
		"m7g":            {{"m7g.16xlarge", 64, 256}},
		"r7g":            {{"r7g.16xlarge", 64, 512}},
	}
	opt := []instance{{"r5.24xlarge", 96, 768}, {"m5.24xlarge", 96, 384}, {"c5.24xlarge", 96, 192}}
	m["optimal"] = append(opt, m["default_x86_64"]...)
	return m
})

// gibPerVCPU is the memory per vCPU of the c, m and r families, which is
// how a named size (c5.2xlarge) is sized without a full table.
var gibPerVCPU = map[byte]int{'c': 2, 'm': 4, 'r': 8}

// sizeOf sizes one instance type given as a family or a type; ok is false
// for anything the tables above do not know, which is then not judged.
func sizeOf(t string) ([]instance, bool) {
	if l, ok := largestInFamily()[t]; ok {
		return l, true
	}
	family, size, ok := strings.Cut(t, ".")
	if !ok || family == "" {
		return nil, false
	}
	ratio, ok := gibPerVCPU[family[0]]
	if !ok {
		return nil, false
	}
	var vcpus int
	switch {
	case size == "medium":
		vcpus = 1
	case size == "large":
		vcpus = 2
	case size == "xlarge":
		vcpus = 4
	case strings.HasSuffix(size, "xlarge"):
		n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge"))
		if err != nil {
			return nil, false
		}
		vcpus = 4 * n
	default:
		return nil, false
	}
	return []instance{{t, vcpus, vcpus * ratio}}, true
}

// fitCheck says whether a request of vcpus and memMiB fits at least one of
// the instance types; known is false when some type is not in the tables,
// and then nothing is claimed. largest are the sizes considered.
func fitCheck(vcpus float64, memMiB int, types []string) (fits, known bool, largest []instance) {
	for _, t := range types {
		sizes, ok := sizeOf(t)
		if !ok {
			return true, false, nil
		}
		largest = append(largest, sizes...)
	}
	if len(largest) == 0 {
		return true, false, nil
	}
	for _, in := range largest {
		if vcpus <= float64(in.VCPUs) && memMiB <= in.MemGiB*1024 {
			return true, true, largest
		}
	}
	return false, true, largest
}

func (in instance) String() string {
	return fmt.Sprintf("%s %d vCPUs/%d GiB", in.Name, in.VCPUs, in.MemGiB)
}
