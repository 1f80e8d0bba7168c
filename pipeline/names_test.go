package pipeline

import (
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
