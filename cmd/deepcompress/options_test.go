package main

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestModelFlagsShared: every command that reads a model file with --model
// and --arch takes them from the shared group, so --arch says the same
// everywhere and --model is required.
func TestModelFlagsShared(t *testing.T) {
	want := &cobra.Command{}
	new(modelFlags).register(want, "")
	arch := want.Flags().Lookup("arch").Usage
	seen := 0
	for _, c := range commands() {
		f := c.Flags()
		m, a := f.Lookup("model"), f.Lookup("arch")
		if m == nil || a == nil || m.Deprecated != "" {
			continue // train's --model is its former spelling of --arch
		}
		seen++
		if a.Usage != arch {
			t.Errorf("%s --arch: usage %q, want the shared %q", c.Name(), a.Usage, arch)
		}
		if req := m.Annotations[cobra.BashCompOneRequiredFlag]; len(req) != 1 || req[0] != "true" {
			t.Errorf("%s --model: not required", c.Name())
		}
	}
	if seen < 5 {
		t.Errorf("%d commands take --model and --arch, want at least 5 (eval, prune, quantize, sensitivity, compress)", seen)
	}
}
