package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCompressSearchFlags: the chain search's flags refuse what cannot
// run before anything is loaded (the model named does not exist), each
// with an error naming the flags.
func TestCompressSearchFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.dcz")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-error", "1.5", "--max-drop", "0.5"}, "[max-drop max-error] were all set"},
		{[]string{"--max-error", "1.5", "--data-free"}, "[data-free max-error] were all set"},
		{[]string{"--max-drop", "0.5", "--data-free"}, "[data-free max-drop] were all set"},
		{[]string{"--max-error", "1.5", "--data", "x.npy"}, "[data max-error] were all set"},
		{[]string{"--max-error", "-1"}, "--max-error wants a percentage of the held-out images above 0 and below 100, got -1"},
		{[]string{"--max-error", "0"}, "--max-error wants a percentage"},
		{[]string{"--max-drop", "-0.5"}, "--max-drop wants a percentage"},
		{[]string{"--max-error", "100"}, "below 100, got 100"},
		{[]string{"--target-ratio", "50"}, "--target-ratio needs --data"},
		{[]string{"--max-error", "1.5", "--search-retries", "-1"}, "retries"},
	} {
		args := append([]string{"compress", "--model", "no-such-model.safetensors", "--out", out}, c.args...)
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one saying %q", c.args, err, c.want)
		}
	}
}
