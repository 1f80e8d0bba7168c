package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/safetensors"
)

// newDataFreeCmd is a command with the data-free flags and those of
// compress that the data-free mode reads.
func newDataFreeCmd() (*cobra.Command, *dataFreeArgs) {
	cmd := &cobra.Command{}
	a := addDataFreeFlags(cmd)
	cmd.Flags().String("config", "", "")
	cmd.Flags().String("preset", "paper", "")
	cmd.Flags().Bool("json", false, "")
	return cmd, a
}

// dataFreeCmd is newDataFreeCmd with args parsed.
func dataFreeCmd(t *testing.T, args ...string) (*cobra.Command, *dataFreeArgs, *bytes.Buffer) {
	t.Helper()
	cmd, a := newDataFreeCmd()
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	return cmd, a, &out
}

// dataFreeOptions parses args and builds the options, as compress does:
// flag errors first, then the flag groups, then the settings.
func dataFreeOptions(t *testing.T, args ...string) (datafree.Options, error) {
	cmd, a := newDataFreeCmd()
	if err := cmd.ParseFlags(args); err != nil {
		return datafree.Options{}, err
	}
	if err := cmd.ValidateFlagGroups(); err != nil {
		return datafree.Options{}, err
	}
	config, _ := cmd.Flags().GetString("config")
	preset, _ := cmd.Flags().GetString("preset")
	return a.options(cmd, config, preset)
}

func TestDataFreeOptions(t *testing.T) {
	opt, err := dataFreeOptions(t, "--keep", "0.1", "--bits", "4", "--index-bits", "6", "--min-size", "10", "--workers", "3", "--memory", "64")
	if err != nil {
		t.Fatal(err)
	}
	want := datafree.Setting{Keep: 0.1, Bits: 4, IndexBits: 6}
	if opt.Config.Default != want || opt.Config.MinSize != 10 || opt.Workers != 3 || opt.MemoryBudget != 64<<20 || len(opt.Config.Rules) != 0 {
		t.Errorf("options %+v", opt)
	}
	opt, err = dataFreeOptions(t, "--preset", "vgg16-paper", "--quality", "1.5")
	if err != nil {
		t.Fatal(err)
	}
	if len(opt.Config.Rules) != 16 || opt.Config.Default != (datafree.Setting{Quality: 1.5}) {
		t.Errorf("preset with --quality: %+v", opt.Config)
	}
	// compress's default preset "paper" is not a data-free preset, and
	// is ignored unless given.
	if opt, err := dataFreeOptions(t); err != nil || len(opt.Config.Rules) != 0 {
		t.Errorf("no flags: %+v, %v", opt, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "paper"}, `unknown preset "paper"`},
		{[]string{"--keep", "0"}, "--keep 0: must be positive"},
		{[]string{"--keep", "1.5"}, "keep 1.5 outside (0, 1]"},
		{[]string{"--bits", "0"}, `invalid argument "0" for "--bits"`},
		{[]string{"--bits", "17"}, "bits 17 outside 1..16"},
		{[]string{"--index-bits", "-1"}, "BITS a positive whole number"},
		{[]string{"--keep", "0.5", "--quality", "1"}, "none of the others can be"},
		{[]string{"--bits", "fc1=4"}, "give widths by name as rules in --config"},
		{[]string{"--config", "does-not-exist.json"}, "open does-not-exist.json"},
	} {
		if _, err := dataFreeOptions(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

func TestRunDataFree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, 64*128)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "m.safetensors")
	f := &safetensors.File{Tensors: []safetensors.Tensor{
		{Name: "fc.weight", Shape: []int{64, 128}, Data: w},
		{Name: "fc.bias", Shape: []int{64}, Data: w[:64]},
	}}
	if err := safetensors.WriteFile(in, f); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.dcz")
	cmd, a, stdout := dataFreeCmd(t, "--keep", "0.25", "--bits", "4")
	opt, err := a.options(cmd, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := runDataFree(cmd, in, out, opt); err != nil {
		t.Fatal(err)
	}
	text := stdout.String()
	for _, s := range []string{"fc.weight", "25.0%", "dense", "total", "ratio"} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q:\n%s", s, text)
		}
	}
	if only, err := datafree.IsTensorsOnly(out); err != nil || !only {
		t.Errorf("IsTensorsOnly = %v, %v", only, err)
	}

	cmd, a, stdout = dataFreeCmd(t, "--json", "--keep", "0.5")
	opt, _ = a.options(cmd, "", "")
	if err := runDataFree(cmd, in, out, opt); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Result datafree.Result `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &js); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	st, _ := os.Stat(out)
	if len(js.Result.Tensors) != 2 || js.Result.OutBytes != st.Size() || js.Result.Kept != 64*128/2 {
		t.Errorf("JSON result %+v", js.Result)
	}
}
