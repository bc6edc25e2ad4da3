package partition

import "testing"

func TestOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":      AWS,
		"eu-west-3":      AWS,
		"cn-north-1":     China,
		"cn-northwest-1": China,
		"us-gov-west-1":  GovCloud,
		"us-gov-east-1":  GovCloud,
		"":               AWS,
	} {
		if got := Of(region); got != want {
			t.Errorf("Of(%q) = %q, want %q", region, got, want)
		}
	}
}
