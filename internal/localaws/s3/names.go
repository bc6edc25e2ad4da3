package s3

import (
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// validBucketName keeps S3's naming rules for general purpose buckets:
// 3 to 63 characters of lowercase letters, digits, dots and hyphens,
// beginning and ending with a letter or digit, no two adjacent dots, not an
// IP address, and none of the prefixes and suffixes S3 reserves.
func validBucketName(name string) *awsproto.Error {
	bad := func(why string) *awsproto.Error {
		return awsproto.Errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid: %q %s", name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be between 3 and 63 characters long")
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			return bad("may contain only lowercase letters, digits, dots and hyphens")
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not contain two adjacent dots")
	}
	if net.ParseIP(name) != nil {
		return bad("must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("must not begin with " + p)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return bad("must not end with " + sfx)
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validTags keeps S3's bucket tag rules: at most 50 tags, keys of 1 to 128
// characters and values of at most 256, unique keys, and no aws: prefix
// (AWS reserves it).
func validTags(tags []tag) *awsproto.Error {
	bad := func(format string, a ...any) *awsproto.Error {
		return awsproto.Errorf(http.StatusBadRequest, "InvalidTag", format, a...)
	}
	if len(tags) > 50 {
		return bad("Object tags cannot be greater than 50")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch n := utf8.RuneCountInString(t.Key); {
		case n == 0 || n > 128:
			return bad("The TagKey you have provided is invalid")
		case utf8.RuneCountInString(t.Value) > 256:
			return bad("The TagValue you have provided is invalid")
		case strings.HasPrefix(t.Key, "aws:"):
			return bad("System tags cannot be added/updated by requester")
		case seen[t.Key]:
			return bad("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}
