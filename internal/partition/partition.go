package partition

import "strings"

// The partitions batchxray runs in.
const (
	AWS      = "aws"
	China    = "aws-cn"
	GovCloud = "aws-us-gov"
)

// Of is the partition of region: aws-cn for the cn- regions, aws-us-gov for
// the us-gov- regions, aws otherwise. It does not check that region exists.
func Of(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return China
	case strings.HasPrefix(region, "us-gov-"):
		return GovCloud
	default:
		return AWS
	}
}
