package datafree

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func boolp(b bool) *bool { return &b }

func TestRuleMatching(t *testing.T) {
	c := Config{Rules: []Rule{
		{Match: "fc6.weight", Setting: Setting{Keep: 0.04}},
		{Match: "re:layers\\.[0-9]+\\.attn\\..*", Setting: Setting{Keep: 0.3, Bits: 4}},
		{Match: "fc*", Setting: Setting{Keep: 0.5}},
		{Match: "*/kernel", Setting: Setting{Quality: 1.5}},
		{Match: "conv[12]_?.weight", Setting: Setting{Bits: 6}},
		{Match: "tiny.*", Dense: boolp(false)},
		{Match: "huge.*", Dense: boolp(true)},
	}, Default: Setting{Keep: 0.9, Bits: 7, IndexBits: 3}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		shape []int
		rule  int
		raw   bool
		want  Setting
	}{
		{"fc6.weight", []int{4096, 25088}, 0, false, Setting{Keep: 0.04, Bits: 7, IndexBits: 3}}, // first match wins over "fc*"
		{"fc7.weight", []int{4096, 4096}, 2, false, Setting{Keep: 0.5, Bits: 7, IndexBits: 3}},
		{"fc7.bias", []int{4096}, 2, true, Setting{Keep: 0.5, Bits: 7, IndexBits: 3}}, // rank 1: dense
		{"layers.12.attn.q.weight", []int{64, 64}, 1, false, Setting{Keep: 0.3, Bits: 4, IndexBits: 3}},
		{"layers.x.attn.q.weight", []int{64, 64}, -1, false, Setting{Keep: 0.9, Bits: 7, IndexBits: 3}},
		{"model/dense/kernel", []int{64, 64}, 3, false, Setting{Quality: 1.5, Bits: 7, IndexBits: 3}}, // * crosses slashes
		{"conv2_1.weight", []int{128, 64, 3, 3}, 4, false, Setting{Keep: 0.9, Bits: 6, IndexBits: 3}},
		{"conv3_1.weight", []int{256, 128, 3, 3}, -1, false, Setting{Keep: 0.9, Bits: 7, IndexBits: 3}},
		{"small.weight", []int{10, 10}, -1, true, Setting{Keep: 0.9, Bits: 7, IndexBits: 3}}, // below MinSize
		{"tiny.weight", []int{10, 10}, 5, false, Setting{Keep: 0.9, Bits: 7, IndexBits: 3}},
		{"tiny.bias", []int{10}, 5, false, Setting{Keep: 0.9, Bits: 7, IndexBits: 3}},
		{"huge.weight", []int{1000, 1000}, 6, true, Setting{Keep: 0.9, Bits: 7, IndexBits: 3}},
	}
	for _, tt := range tests {
		p := c.planFor(tt.name, tt.shape)
		if p.rule != tt.rule || p.raw != tt.raw || p.Setting != tt.want {
			t.Errorf("%s %v: rule %d raw %v %+v, want rule %d raw %v %+v", tt.name, tt.shape, p.rule, p.raw, p.Setting, tt.rule, tt.raw, tt.want)
		}
	}
}

func TestBuiltinDefaults(t *testing.T) {
	var c Config
	for _, tt := range []struct {
		shape []int
		want  Setting
	}{
		{[]int{64, 3, 3, 3}, Setting{Keep: 1, Bits: 8, IndexBits: 8}},
		{[]int{100, 100}, Setting{Keep: 1, Bits: 5, IndexBits: 5}},
	} {
		if p := c.planFor("w", tt.shape); p.raw || p.Setting != tt.want {
			t.Errorf("%v: raw %v %+v, want %+v", tt.shape, p.raw, p.Setting, tt.want)
		}
	}
	c.MinSize = 20000
	if p := c.planFor("w", []int{100, 100}); !p.raw {
		t.Error("min_size 20000 did not keep a 10000-element tensor dense")
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`[{"match": "fc*", "keep": 0.1, "bits": 4}, {"match": "re:x|y", "dense": true}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 2 || c.Rules[0].Keep != 0.1 || !c.Rules[1].Matches("y") || c.Rules[1].Matches("xy") {
		t.Errorf("array form: %+v", c)
	}
	c, err = ParseConfig([]byte(`{"rules": [{"match": "*", "quality": 1.2, "index_bits": 4}], "default": {"bits": 6}, "min_size": 10}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.planFor("a", []int{4, 4}); p.rule != 0 || p.raw || p.Setting != (Setting{Quality: 1.2, Bits: 6, IndexBits: 4}) {
		t.Errorf("object form: %+v", p)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`[{"match": "a", "keep": 0.5, "bitz": 4}]`, `unknown field "bitz"`},
		{`{"rulez": []}`, `unknown field "rulez"`},
		{`[{"match": "a", "bits": 17}]`, "rule 0: \"a\": bits 17 outside 1..16"},
		{`[{"match": "a"}, {"match": "b", "index_bits": 40}]`, "rule 1: \"b\": index_bits 40 outside"},
		{`[{"match": "a", "keep": 1.5}]`, "keep 1.5 outside (0, 1]"},
		{`[{"match": "a", "keep": -0.1}]`, "keep -0.1 outside"},
		{`[{"match": "a", "keep": 0.5, "quality": 1}]`, "keep or quality, not both"},
		{`[{"match": "a", "quality": -1}]`, "quality -1"},
		{`[{"keep": 0.5}]`, "rule 0: empty match pattern"},
		{`[{"match": "re:(", "keep": 0.5}]`, "pattern \"re:(\""},
		{`[{"match": "a[b", "keep": 0.5}]`, "unclosed ["},
		{`{"min_size": -1}`, "min_size -1 is negative"},
		{`{"default": {"bits": 0, "keep": 2}}`, "default: keep 2"},
		{`[] []`, "unexpected data after"},
		{`[{"match": 3}]`, "bad JSON"},
	} {
		_, err := ParseConfig([]byte(tt.json))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want a *ConfigError containing %q", tt.json, err, tt.want)
		}
	}
}

func TestPresetVGG16(t *testing.T) {
	c, err := Preset("vgg16-paper")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		shape []int
		keep  float64
		bits  int
		raw   bool
	}{
		{"conv1_1.weight", []int{64, 3, 3, 3}, 0.58, 8, false},
		{"features.0.weight", []int{64, 3, 3, 3}, 0.58, 8, false},
		{"conv5_3.weight", []int{512, 512, 3, 3}, 0.36, 8, false},
		{"features.28.weight", []int{512, 512, 3, 3}, 0.36, 8, false},
		{"fc6.weight", []int{4096, 25088}, 0.04, 5, false},
		{"classifier.6.weight", []int{1000, 4096}, 0.23, 5, false},
		{"fc6.bias", []int{4096}, 1, 5, true},
	} {
		p := c.planFor(tt.name, tt.shape)
		if p.Keep != tt.keep || p.Bits != tt.bits || p.IndexBits != 5 || p.raw != tt.raw {
			t.Errorf("%s: %+v raw %v, want keep %v bits %d index bits 5 raw %v", tt.name, p.Setting, p.raw, tt.keep, tt.bits, tt.raw)
		}
	}
	if p := c.planFor("features.2.weight", []int{64, 64, 3, 3}); p.Keep != 0.22 {
		t.Errorf("features.2 matched keep %v, want conv1_2's 0.22 (features.28 must not match it)", p.Keep)
	}
	if _, err := Preset("alexnet"); err == nil || !strings.Contains(err.Error(), "vgg16-paper") {
		t.Errorf("unknown preset: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`[{"match": "fc*", "keep": 0.1, "bits": 4}]`))
	f.Add([]byte(`{"rules": [{"match": "re:a+", "quality": 1}], "min_size": 3}`))
	f.Add([]byte(`[{"match": "[!a-c]?*"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		for i := range c.Rules {
			c.Rules[i].Matches("fc6.weight")
		}
		c.planFor("x.weight", []int{100, 100})
	})
}

// TestPresetFile checks that bench/vgg16_paper.json is the built-in preset.
func TestPresetFile(t *testing.T) {
	file, err := LoadConfig(filepath.Join("..", "bench", "vgg16_paper.json"))
	if err != nil {
		t.Fatal(err)
	}
	preset, _ := Preset("vgg16-paper")
	if len(file.Rules) != len(preset.Rules) {
		t.Fatalf("%d rules in the file, %d in the preset", len(file.Rules), len(preset.Rules))
	}
	for i := range file.Rules {
		f, p := file.Rules[i], preset.Rules[i]
		if f.Match != p.Match || f.Setting != p.Setting || f.Dense != nil || p.Dense != nil {
			t.Errorf("rule %d: file %+v, preset %+v", i, f, p)
		}
	}
}
