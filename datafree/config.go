package datafree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/settings"
)

// Setting is how one weight tensor is compressed (see settings.Setting).
// Zero fields are unset: a rule's unset fields come from Config.Default,
// and those unset there from the built-in defaults: keep everything, and
// the paper's widths (settings.Paper) for the tensor's rank, 8 bits for
// the shared values and the gaps of rank-4 convolution kernels and 5 for
// other tensors.
type Setting = settings.Setting

// Grids.
const (
	GridKMeans  = settings.GridKMeans
	GridUniform = settings.GridUniform
)

// Rule applies a Setting to the tensors whose names match a pattern.
type Rule struct {
	// Match is a glob on the whole tensor name: "*" matches any run of
	// characters (dots and slashes included), "?" one character, "[...]"
	// a character class. With the prefix "re:" it is instead a regular
	// expression (RE2 syntax) that must match the whole name.
	// Match names the tensors (see package settings): a weight name, a
	// layer name (the name less ".weight"), a glob ("*" matches any run of
	// characters, dots and slashes included, "?" one character, "[...]" a
	// character class) or, with the prefix "re:", a regular expression
	// (RE2 syntax); globs and expressions match whole names.
	Match string `json:"match"`
	Setting
	// Dense true stores the matching tensors as float32; false compresses
	// them even when they are small or of rank 1; unset leaves that to
	// the size rule (see Config.MinSize).
	Dense *bool `json:"dense,omitempty"`

	pattern *settings.Pattern
}

// Config chooses a Setting for each tensor: the first rule whose pattern
// matches the name wins, and tensors that no rule matches get Default.
// A tensor is stored as float32, uncompressed, when its rule says dense,
// or when no rule says otherwise and it has rank 0 or 1 (biases, norms)
// or fewer than MinSize elements.
type Config struct {
	Rules   []Rule  `json:"rules,omitempty"`
	Default Setting `json:"default,omitzero"`
	// MinSize is the element count below which tensors stay dense; 0
	// means DefaultMinSize.
	MinSize int `json:"min_size,omitempty"`
}

// DefaultMinSize is the element count below which a tensor is stored
// dense unless a rule says otherwise: below it the codebook and the
// Huffman tables cost more than the pruning saves.
const DefaultMinSize = 1024

// ConfigError reports an invalid config: which rule (-1 for the default
// or the whole config) and what is wrong.
type ConfigError struct {
	Rule int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Rule < 0 {
		return "datafree: config: " + e.Msg
	}
	return fmt.Sprintf("datafree: config: rule %d: %s", e.Rule, e.Msg)
}

// ParseConfig decodes a JSON config: an object with the fields of Config,
// or just the array of rules. Unknown fields are an error.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	trimmed := bytes.TrimSpace(data)
	var target any = &c
	if len(trimmed) > 0 && trimmed[0] == '[' {
		target = &c.Rules
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return Config{}, &ConfigError{Rule: -1, Msg: "bad JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, &ConfigError{Rule: -1, Msg: "unexpected data after the JSON value"}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads a JSON config file (see ParseConfig).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("datafree: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%w (file %s)", err, path)
	}
	return c, nil
}

// MaxRules bounds the rules of a config (the paper's VGG-16 preset has
// 16), so that its warnings and errors stay short.
const MaxRules = 256

// Validate checks every rule and compiles the patterns.
func (c *Config) Validate() error {
	if len(c.Rules) > MaxRules {
		return &ConfigError{Rule: -1, Msg: fmt.Sprintf("%d rules, more than %d", len(c.Rules), MaxRules)}
	}
	if c.MinSize < 0 {
		return &ConfigError{Rule: -1, Msg: fmt.Sprintf("min_size %d is negative", c.MinSize)}
	}
	if err := c.Default.Validate(); err != nil {
		return &ConfigError{Rule: -1, Msg: "default: " + err.Error()}
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if len(r.Match) > dcz.MaxNameLen {
			return &ConfigError{Rule: i, Msg: fmt.Sprintf("pattern of %d bytes, longer than any tensor name (%d)", len(r.Match), dcz.MaxNameLen)}
		}
		if err := r.compile(); err != nil {
			return &ConfigError{Rule: i, Msg: err.Error()}
		}
		if err := r.Setting.Validate(); err != nil {
			return &ConfigError{Rule: i, Msg: fmt.Sprintf("%q: %v", r.Match, err)}
		}
	}
	return nil
}

func (r *Rule) compile() error {
	p, err := settings.Compile(r.Match)
	r.pattern = p
	return err
}

// Matches reports whether the rule's pattern matches name. The config must
// have been validated.
func (r *Rule) Matches(name string) bool { return r.pattern != nil && r.pattern.Match(name) }

// plan is what happens to one tensor.
type plan struct {
	raw  bool
	rule int // index of the matching rule, -1 for none
	Setting
}

// planFor resolves the rule of a tensor with the given name and shape.
func (c *Config) planFor(name string, shape []int) plan {
	p := plan{rule: -1}
	var dense *bool
	for i := range c.Rules {
		if c.Rules[i].Matches(name) {
			p.rule, p.Setting, dense = i, c.Rules[i].Setting, c.Rules[i].Dense
			break
		}
	}
	n := arch.Numel(shape)
	minSize := c.MinSize
	if minSize == 0 {
		minSize = DefaultMinSize
	}
	if dense != nil {
		p.raw = *dense
	} else {
		p.raw = len(shape) <= 1 || n < minSize
	}
	p.Setting = fill(p.Setting, c.Default, shape)
	return p
}

// fill completes s from the defaults d and then the built-in ones: keep
// everything, the paper's widths for a tensor of that shape.
func fill(s, d Setting, shape []int) Setting {
	builtin := settings.Paper(settings.KindOfShape(shape))
	builtin.Keep = 1
	return s.Fill(d).Fill(builtin)
}

// vgg16Table5 lists the kept fractions of Table 5 of the paper by layer,
// with the torchvision index of each layer.
var vgg16Table5 = []struct {
	layer, torch string
	keep         float64
}{
	{"conv1_1", "features.0", 0.58}, {"conv1_2", "features.2", 0.22},
	{"conv2_1", "features.5", 0.34}, {"conv2_2", "features.7", 0.36},
	{"conv3_1", "features.10", 0.53}, {"conv3_2", "features.12", 0.24},
	{"conv3_3", "features.14", 0.42},
	{"conv4_1", "features.17", 0.32}, {"conv4_2", "features.19", 0.27},
	{"conv4_3", "features.21", 0.34},
	{"conv5_1", "features.24", 0.35}, {"conv5_2", "features.26", 0.29},
	{"conv5_3", "features.28", 0.36},
	{"fc6", "classifier.0", 0.04}, {"fc7", "classifier.3", 0.04},
	{"fc8", "classifier.6", 0.23},
}

// Preset returns a built-in config by name. "vgg16-paper" is Table 5 of
// the paper for VGG-16: the per-layer kept fractions, 8-bit convolution and
// 5-bit fully connected weights, 5-bit gaps. Its rules name each weight
// both as "conv1_1.weight" ... "fc8.weight" (the names bench/vgg16gen
// writes) and as torchvision does ("features.0.weight" ...
// "classifier.6.weight"); biases stay dense.
func Preset(name string) (Config, error) {
	switch name {
	case "vgg16-paper":
		var c Config
		for _, l := range vgg16Table5 {
			bits := settings.PaperBits(arch.Conv2D)
			if strings.HasPrefix(l.layer, "fc") {
				bits = settings.PaperBits(arch.Dense)
			}
			match := fmt.Sprintf(`re:(%s|%s)\.weight`, l.layer, regexp.QuoteMeta(l.torch))
			c.Rules = append(c.Rules, Rule{Match: match, Setting: Setting{Keep: l.keep, Bits: bits, IndexBits: 5}})
		}
		return c, c.Validate()
	}
	return Config{}, fmt.Errorf("datafree: unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
}

// PresetNames lists the built-in configs.
func PresetNames() []string { return []string{"vgg16-paper"} }
