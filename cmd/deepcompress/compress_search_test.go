package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deepcompress/deepcompress/pipeline"
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

// TestPrintChainSearch: the text names the goal, every candidate and
// full run with held-out and test errors, and where the settings went;
// --json carries the same report.
func TestPrintChainSearch(t *testing.T) {
	trial := pipeline.ChainTrial{Scale: 1, Bits: "3/4/4", Bytes: 7502, Ratio: 142.2, HeldOutError: 0.9}
	rep := &pipeline.ChainSearchReport{Goal: "held-out error at most 1 %", OriginalHeldOutError: 0.01, OriginalTestError: 1.33,
		Trials: []pipeline.ChainTrial{trial}, Runs: []pipeline.ChainRun{{ChainTrial: trial, TestError: 1.47, Met: true}}, Met: true,
		Result: &pipeline.Result{Out: "x.dcz", Stages: []pipeline.Stage{{Name: "huffman", Correct: 9853, Total: 10000, Accuracy: 0.9853, Bytes: 7502, Ratio: 142.2, Measured: true}}}}
	var b bytes.Buffer
	if err := printChainSearch(&b, rep, "x.config.json", false, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"held-out error at most 1 %", "full 1 (met), kept", "1.47 %", "0.90 %", "--config x.config.json", "wrote x.dcz"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := printChainSearch(&b, rep, "x.config.json", true, time.Second); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Search   pipeline.ChainSearchReport `json:"search"`
		Settings string                     `json:"settings"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Settings != "x.config.json" || len(got.Search.Runs) != 1 || got.Search.Runs[0].TestError != 1.47 {
		t.Errorf("json %+v", got)
	}
}
