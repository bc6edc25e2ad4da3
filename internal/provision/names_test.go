package provision

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValidateStack(t *testing.T) {
	tests := []struct {
		stack string
		rule  string // "" when valid
	}{
		{"batch-xray", ""},
		{"a", ""},
		{"team1-prod", ""},
		{strings.Repeat("a", MaxStackLen), ""},
		{"", "must not be empty"},
		{strings.Repeat("a", MaxStackLen+1), "at most 20 characters"},
		{"Batch", "lowercase letters"},
		{"1abc", "starting with a letter"},
		{"abc-", "not ending with a hyphen"},
		{"a_b", "lowercase letters"},
		{"a--b", "no two hyphens"},
		{"a.b", "lowercase letters"},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			err := ValidateStack(tt.stack)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("ValidateStack(%q) = %v, want nil", tt.stack, err)
				}
				return
			}
			var se *StackNameError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.rule) {
				t.Fatalf("ValidateStack(%q) = %v, want a StackNameError saying %q", tt.stack, err, tt.rule)
			}
		})
	}
}

// The longest stack in the longest region still yields names every service
// accepts.
func TestNamesForFitServiceRules(t *testing.T) {
	stack := "a" + strings.Repeat("b", MaxStackLen-1)
	n, err := NamesFor(stack, "123456789012", "ap-southeast-4")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what, name string
		re         string
		max        int
	}{
		{"bucket", n.Bucket, `^[a-z0-9][a-z0-9-]*[a-z0-9]$`, 63},
		{"instance role", n.InstanceRole, `^[\w+=,.@-]+$`, 64},
		{"instance profile", n.InstanceProfile, `^[\w+=,.@-]+$`, 128},
		{"job role", n.JobRole, `^[\w+=,.@-]+$`, 64},
		{"sampling rule", n.SamplingRule, `^[A-Za-z0-9_-]+$`, 32},
		{"compute environment", n.ComputeEnvironment, `^[A-Za-z0-9_-]+$`, 128},
		{"job queue", n.JobQueue, `^[A-Za-z0-9_-]+$`, 128},
		{"job definition", n.JobDefinition, `^[A-Za-z0-9_-]+$`, 128},
		{"launch template", n.LaunchTemplate, `^[a-zA-Z0-9().\-/_]+$`, 128},
		{"security group", n.SecurityGroup, `^[\x20-\x7e]+$`, 255},
		{"repository", n.Repository, `^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`, 256},
		{"log group", n.LogGroup, `^[\.\-_/#A-Za-z0-9]+$`, 512},
	}
	for _, c := range checks {
		if len(c.name) > c.max || !regexp.MustCompile(c.re).MatchString(c.name) {
			t.Errorf("%s name %q breaks its rule (%s, at most %d)", c.what, c.name, c.re, c.max)
		}
	}
}
