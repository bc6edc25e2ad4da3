package traceid

import (
	"bytes"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	now := time.Unix(0x5d82881a, 0)
	id, err := New(now, bytes.NewReader(bytes.Repeat([]byte{0xab}, 12)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "1-5d82881a-abababababababababababab"; id != want {
		t.Errorf("New = %q, want %q", id, want)
	}
	if !Valid(id) || !Time(id).Equal(now) {
		t.Errorf("Valid(%q) = %v, Time = %v", id, Valid(id), Time(id))
	}
	if _, err := New(now, bytes.NewReader(nil)); err == nil {
		t.Error("New with no random bytes: no error")
	}
	a, _ := New(now, nil)
	b, _ := New(now, nil)
	if a == b || !Valid(a) {
		t.Errorf("two random IDs %q and %q", a, b)
	}
	seg, err := NewSegmentID(nil)
	if err != nil || !ValidSegmentID(seg) {
		t.Errorf("NewSegmentID = %q, %v", seg, err)
	}
}

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"1-5d82881a-0a9126e92a73e971eed891b9":  true,
		"1-5d82881a-0a9126e92a73e971eed891b":   false,
		"2-5d82881a-0a9126e92a73e971eed891b9":  false,
		"1-5d82881A-0a9126e92a73e971eed891b9":  false,
		"1-5d82881a_0a9126e92a73e971eed891b9":  false,
		"1-5d82881a-0a9126e92a73e971eed891b9x": false,
		"":                                     false,
	} {
		if got := Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
}

// TestChild pins the rule with digests worked out outside Go:
// printf '0a9126e92a73e971eed891b9:3' | sha256sum | cut -c1-24.
func TestChild(t *testing.T) {
	parent := "1-5d82881a-0a9126e92a73e971eed891b9"
	for index, want := range map[int]string{
		0: "1-5d82881a-0aaafbcc3c64e4f9873c7786",
		3: "1-5d82881a-6f6aa846c6e359dc07f679bb",
	} {
		got, err := Child(parent, index)
		if err != nil || got != want {
			t.Errorf("Child(%d) = %q, %v; want %q", index, got, err, want)
		}
	}
	if _, err := Child("nope", 1); err == nil {
		t.Error("Child of an invalid ID: no error")
	}
	if _, err := Child(parent, -1); err == nil {
		t.Error("Child -1: no error")
	}
}

func TestHeader(t *testing.T) {
	h, err := Parse("Root=1-5d82881a-0a9126e92a73e971eed891b9;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1")
	if err != nil {
		t.Fatal(err)
	}
	want := Header{Root: "1-5d82881a-0a9126e92a73e971eed891b9", Parent: "53995c3f42cd8ad8", Sampled: true}
	if h != want {
		t.Errorf("Parse = %+v, want %+v", h, want)
	}
	if got := want.String(); got != "Root=1-5d82881a-0a9126e92a73e971eed891b9;Parent=53995c3f42cd8ad8;Sampled=1" {
		t.Errorf("String = %q", got)
	}
	for _, bad := range []string{"", "Root=x", "Root=1-5d82881a-0a9126e92a73e971eed891b9;Parent=zz"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
	child, err := ChildHeader(want.String(), 3)
	if err != nil || child != "Root=1-5d82881a-6f6aa846c6e359dc07f679bb;Sampled=1" {
		t.Errorf("ChildHeader = %q, %v", child, err)
	}
}
