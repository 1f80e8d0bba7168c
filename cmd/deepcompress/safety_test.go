package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

// TestOutputIsInputRefused: every command that writes a file refuses an
// output that is its input (same path, a symbolic link to it, another
// spelling) before any work, and leaves the input byte for byte unchanged.
func TestOutputIsInputRefused(t *testing.T) {
	dir := t.TempDir()
	dczPath := filepath.Join(dir, "m.dcz")
	st := filepath.Join(dir, "m.safetensors")
	orig, err := os.ReadFile(embedded)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dczPath, orig, 0o644)
	if _, err := run(t, "decode", dczPath, "--out", st); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.safetensors")
	os.Symlink(st, link)
	before, _ := os.ReadFile(st)
	other := filepath.Join(dir, "sub", "..", "m.safetensors")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, args := range [][]string{
		{"encode", "--model", st, "--out", st},
		{"encode", "--model", st, "--out", link},
		{"compress", "--data-free", "--model", st, "--out", other},
		{"compress", "--model", st, "--out", st},
		{"compress", "--model", dczPath, "--out", dczPath, "--preset", "paper"},
		{"decode", dczPath, "--out", dczPath},
		{"decode", link, "--out", st},
		{"export", "--model", st, "--out", link},
		{"quantize", "--model", st, "--out", st, "--bits", "fc1=4"},
		{"prune", "--model", st, "--out", st, "--layers", "fc1=0.5"},
		{"eval", "--model", st, "--predictions", st},
		{"sensitivity", "--model", st, "--png", st},
	} {
		_, err := run(t, args...)
		var se *atomicfile.SameFileError
		if !errors.As(err, &se) {
			t.Errorf("%v: got %v, want the output-is-input error", args, err)
		}
	}
	if after, _ := os.ReadFile(st); !bytes.Equal(before, after) {
		t.Error("the safetensors input changed")
	}
	if after, _ := os.ReadFile(dczPath); !bytes.Equal(orig, after) {
		t.Error("the .dcz input changed")
	}
	if _, err := run(t, "encode", "--model", st, "--out", filepath.Join(dir, "missing", "x.dcz")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an output in a missing directory: error %v, want a not-exist error", err)
	}
}

// TestMaxMemoryFlag: --max-memory sets the budget, a file over it is
// refused with the budget's error, and the next command is back to the
// default.
func TestMaxMemoryFlag(t *testing.T) {
	_, err := run(t, "--max-memory", "64KiB", "eval", "--model", embedded)
	var ex *budget.ExceededError
	if !errors.As(err, &ex) || ex.Limit != 64<<10 {
		t.Fatalf("got %v, want the budget's error at 64 KiB", err)
	}
	if _, err := run(t, "inspect", embedded); err != nil {
		t.Fatal(err)
	}
	if budget.Default.Limit() != budget.DefaultLimit {
		t.Errorf("limit %d after a command without the flag", budget.Default.Limit())
	}
	if _, err := run(t, "--max-memory", "lots", "inspect", embedded); err == nil || !strings.Contains(err.Error(), `bad size "lots"`) {
		t.Errorf("a bad --max-memory: error %v, want the budget's bad-size error", err)
	}
}

// TestStaleTemporariesRemoved: the temporary file a killed run left next
// to its output is gone after the next run writes that output, and a
// replaced output keeps its permissions.
func TestStaleTemporariesRemoved(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	stale := filepath.Join(dir, ".m.safetensors.tmp-4242")
	os.WriteFile(stale, make([]byte, 1<<10), 0o644)
	os.WriteFile(out, nil, 0o600)
	if _, err := run(t, "decode", embedded, "--out", out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file left")
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced output has mode %v, want 0600", st.Mode().Perm())
	}
}

// TestPredictionBounded: a network of more classes than maxListed prints
// only its most probable ones, best first.
func TestPredictionBounded(t *testing.T) {
	probs := make([]float32, 5000)
	for i := range probs {
		probs[i] = float32(i%977) / 1e4
	}
	p := newPrediction("x.png", 976, probs)
	if p.Probs != nil || len(p.Top) != topListed || p.Classes != 5000 {
		t.Fatalf("prediction %+v", p.Top)
	}
	for i, c := range p.Top { // five of 0.0976 in class order, then 0.0975
		want := classProb{Class: 976 + 977*i, Prob: probs[976]}
		if i >= 5 {
			want = classProb{Class: 975 + 977*(i-5), Prob: probs[975]}
		}
		if c != want {
			t.Fatalf("top %d is %+v, want %+v", i, c, want)
		}
	}
	if len(formatProbs(p)) > 300 {
		t.Errorf("line of %d bytes", len(formatProbs(p)))
	}
	if q := newPrediction("x.png", 1, probs[:10]); len(q.Probs) != 10 || q.Top != nil {
		t.Errorf("10 classes not listed in full")
	}
}
