package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestWidths: --bits and --index-bits take one width for every weight,
// widths by name, or both.
func TestWidths(t *testing.T) {
	for in, want := range map[string]string{"5": "5", "fc1=6,conv*=8": "conv*=8,fc1=6", "5, fc1=6": "5,fc1=6"} {
		w := widths{}
		if err := w.Set(in); err != nil || w.String() != want {
			t.Errorf("%q: %q %v, want %q", in, w, err, want)
		}
	}
	for _, bad := range []string{"", "0", "fc1=", "=3", "fc1=x", "-1"} {
		if err := (widths{}).Set(bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("positive whole number, got %q", bad)) {
			t.Errorf("%q: error %v, want the BITS or NAME=BITS usage", bad, err)
		}
	}
	if b, ok := (widths{all: 5}).only(); b != 5 || !ok {
		t.Error("only: one width")
	}
	if _, ok := (widths{all: 5, "fc1": 6}).only(); ok {
		t.Error("only: with names")
	}
}
