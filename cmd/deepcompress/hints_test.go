package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/pipeline"
)

// TestFlagHints: the library's errors name no flag; the command line adds
// the flag that answers each.
func TestFlagHints(t *testing.T) {
	for _, tt := range []struct {
		err  error
		flag string
	}{
		{budget.New(1).Check("x", 2, 4), "--max-memory"},
		{fmt.Errorf("load: %w", mnist.ErrNotFound), "--data-dir"},
		{fmt.Errorf("%w: a.safetensors", modelfile.ErrNoArch), "--arch"},
		{modelfile.ErrTensorsOnly, "export --model"},
		{fmt.Errorf("%w: w", pipeline.ErrWorkDirTaken), "--work-dir"},
	} {
		if strings.Contains(tt.err.Error(), "--") {
			t.Errorf("the library's error names a flag: %v", tt.err)
		}
		got := withFlagHint(tt.err)
		if !strings.Contains(got.Error(), tt.flag) || !errors.Is(got, tt.err) {
			t.Errorf("%v: hint %q, want one naming %s", tt.err, got, tt.flag)
		}
	}
	if err := errors.New("other"); withFlagHint(err) != err {
		t.Error("an error without a hint changed")
	}
}
