package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigNames: the bits and index bits of a config name weights as
// every stage does, by layer name, weight name or pattern.
func TestConfigNames(t *testing.T) {
	m := trainedSmall(t)
	for _, names := range []map[string]int{{"fc1": 3}, {"fc1.weight": 3}, {"fc*": 3}, {"re:fc[12]": 3}} {
		c := Config{Quantize: QuantizeConfig{Bits: names}, Encode: EncodeConfig{IndexBits: names}}
		if err := c.Validate(m); err != nil {
			t.Errorf("%v: %v", names, err)
		}
	}
	c := Config{Quantize: QuantizeConfig{Bits: map[string]int{"fc9.weight": 3}}}
	if err := c.Validate(m); err == nil || !strings.Contains(err.Error(), `unknown layer "fc9.weight"`) {
		t.Errorf("unknown weight: %v", err)
	}
	r := &Runner{Config: Config{Encode: EncodeConfig{IndexBits: map[string]int{"fc*": 3, "fc2.weight": 6}}}}
	if got := r.indexBits(m); got["fc1.weight"] != 3 || got["fc2.weight"] != 6 || len(got) != 2 {
		t.Errorf("index bits %v", got)
	}
	r.Config.Encode.IndexBits = nil
	if got := r.indexBits(m); got["fc1.weight"] != 5 || got["fc2.weight"] != 5 {
		t.Errorf("the paper's index bits for dense layers: %v", got)
	}
}

// TestConfigLambda: quantize.lambda names layers like bits and takes
// finite values >= 0 only.
func TestConfigLambda(t *testing.T) {
	m := trainedSmall(t)
	for _, tc := range []struct {
		lambda map[string]float64
		err    string
	}{
		{map[string]float64{"*": 0.1}, ""},
		{map[string]float64{"fc1": 0.3, "fc2.weight": 0}, ""},
		{map[string]float64{"fc9": 0.1}, `unknown layer "fc9"`},
		{map[string]float64{"fc1": -0.1}, "not a finite non-negative number"},
	} {
		err := Config{Quantize: QuantizeConfig{Lambda: tc.lambda}}.Validate(m)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: error %v, want %q", tc.lambda, err, tc.err)
		}
	}
}

// TestLambdaIsUsed: the chain's quantize stage applies quantize.lambda,
// and a large one makes the file smaller.
func TestLambdaIsUsed(t *testing.T) {
	dir := t.TempDir()
	var sizes [2]int64
	for i, lambda := range []map[string]float64{nil, {"*": 1}} {
		cfg := smallConfig()
		cfg.Prune.Rounds = 1
		cfg.Quantize.Lambda = lambda
		r := &Runner{Config: cfg, WorkDir: filepath.Join(dir, fmt.Sprint(i)), Train: synthetic(400, 1), Test: synthetic(200, 2)}
		out := filepath.Join(dir, fmt.Sprintf("%d.dcz", i))
		if _, err := r.Run(context.Background(), trainedSmall(t), out); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		sizes[i] = st.Size()
	}
	if sizes[1] >= sizes[0] {
		t.Errorf("lambda 1 wrote %d bytes, lambda 0 %d: want smaller", sizes[1], sizes[0])
	}
}
