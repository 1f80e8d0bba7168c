package settings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

func TestPaper(t *testing.T) {
	if got := Paper(arch.Conv2D); got != (Setting{Bits: 8, IndexBits: 8}) {
		t.Errorf("conv: %+v", got)
	}
	if got := Paper(arch.Dense); got != (Setting{Bits: 5, IndexBits: 5}) {
		t.Errorf("dense: %+v", got)
	}
	if KindOfShape([]int{6, 1, 5, 5}) != arch.Conv2D || KindOfShape([]int{300, 784}) != arch.Dense || KindOfShape([]int{10}) != arch.Dense {
		t.Error("KindOfShape")
	}
}

func TestFill(t *testing.T) {
	d := Setting{Keep: 0.1, Bits: 4, IndexBits: 6, Grid: GridUniform}
	if got := (Setting{Quality: 1.2, Bits: 3}).Fill(d); got != (Setting{Quality: 1.2, Bits: 3, IndexBits: 6, Grid: GridUniform}) {
		t.Errorf("quality kept, keep not mixed in: %+v", got)
	}
	if got := (Setting{}).Fill(d); got != d {
		t.Errorf("all from the defaults: %+v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		s    Setting
		want string
	}{
		{Setting{Keep: 0.5, Quality: 1}, "not both"},
		{Setting{Keep: 1.5}, "keep 1.5 outside"},
		{Setting{Quality: -1}, "quality -1"},
		{Setting{Bits: 17}, "bits 17 outside 1..16"},
		{Setting{IndexBits: 17}, "index_bits 17 outside"},
		{Setting{Grid: "hex"}, `grid "hex"`},
	} {
		if err := tt.s.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.s, err, tt.want)
		}
	}
	if err := (Setting{Keep: 1, Bits: 16, IndexBits: 16, Grid: GridKMeans}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestJSON: the field names are those of the config files.
func TestJSON(t *testing.T) {
	b, _ := json.Marshal(Setting{Keep: 0.1, Bits: 5, IndexBits: 5, Grid: GridUniform})
	if string(b) != `{"keep":0.1,"bits":5,"index_bits":5,"grid":"uniform"}` {
		t.Error(string(b))
	}
}

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"fc1", "fc1.weight", true},
		{"fc1", "fc1.bias", false},
		{"fc1.weight", "fc1.weight", true},
		{"fc1", "fc10.weight", false},
		{"fc1.bias", "fc1.bias", true},
		{"conv*", "conv1.weight", true},
		{"conv?", "conv2.weight", true},
		{"conv?", "conv22.weight", false},
		{"conv[12]", "conv2.weight", true},
		{"conv[!12]", "conv2.weight", false},
		{"features.*.weight", "features.0.weight", true},
		{"*", "a/b.c", true},
		{"re:fc[12]", "fc2.weight", true},
		{"re:fc[12]", "fc3.weight", false},
		{"re:fc", "fc1.weight", false}, // whole names only
		{"a.b", "axb", false},          // dots are literal
	} {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tt.name); got != tt.want {
			t.Errorf("%q on %q: %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"", "a[b", "re:("} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestLookup(t *testing.T) {
	m := map[string]int{"fc1": 6, "fc1.weight": 7, "conv*": 8, "c*": 3, "fc2": 4, "d?": 1, "e?": 2}
	for _, tt := range []struct {
		name string
		want int
		ok   bool
	}{
		{"fc1.weight", 7, true}, // the full name wins over the layer name
		{"fc2.weight", 4, true},
		{"conv3.weight", 8, true}, // the longest pattern first: "conv*" before "c*"
		{"cat.weight", 3, true},
		{"d1", 1, true},
		{"fc3.weight", 0, false},
	} {
		if got, ok := Lookup(m, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("%s: %d %v, want %d %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if v, _ := Lookup(map[string]int{"*": 5, "fc?": 6, "fc1": 7}, "fc2.weight"); v != 6 {
		t.Errorf("a catch-all loses to a narrower pattern: got %d", v)
	}
}

func TestCheck(t *testing.T) {
	names := []string{"fc1.weight", "fc2.weight", "conv1.weight"}
	for _, ok := range []map[string]int{{"fc1": 1}, {"fc1.weight": 1}, {"conv*": 1}, {"re:fc\\d": 1}, nil} {
		if err := Check(ok, names); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for key, want := range map[string]string{"fc9": `unknown layer "fc9" (the model's layers are [fc1 fc2 conv1])`, "pool*": "unknown layer", "a[": "unclosed ["} {
		if err := Check(map[string]int{key: 1}, names); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", key, err, want)
		}
	}
	many := make([]string, 50)
	for i := range many {
		many[i] = "l.weight"
	}
	if err := Check(map[string]int{"x": 1}, many); err == nil || !strings.Contains(err.Error(), "... 30 more]") {
		t.Errorf("bounded list: %v", err)
	}
}
