package arch

import "testing"

func TestBuiltinParamCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int
	}{{"lenet300", 266610}, {"lenet5", 431080}} {
		s, err := Builtin(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.NumParams()
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("%s: %d parameters, want %d", tc.name, n, tc.want)
		}
	}
}

func TestBadSpecs(t *testing.T) {
	for name, s := range map[string]Spec{
		"dense on image": {Input: []int{1, 28, 28}, Layers: []Layer{{Kind: Dense, Name: "a", Out: 3}}},
		"kernel too big": {Input: []int{1, 4, 4}, Layers: []Layer{{Kind: Conv2D, Name: "c", Out: 2, Kernel: [2]int{5, 5}}}},
		"unknown kind":   {Input: []int{3}, Layers: []Layer{{Kind: "lstm"}}},
		"duplicate name": {Input: []int{3}, Layers: []Layer{{Kind: Dense, Name: "a", Out: 3}, {Kind: Dense, Name: "a", Out: 3}}},
		"no layers":      {Input: []int{3}},
		"dropout rate":   {Input: []int{3}, Layers: []Layer{{Kind: Dropout, Rate: 1}}},
	} {
		if _, err := s.Shapes(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	s := LeNet5()
	got, err := Parse(s.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if string(got.JSON()) != string(s.JSON()) {
		t.Errorf("round trip changed the spec:\n%s\n%s", got.JSON(), s.JSON())
	}
}

func TestIdentify(t *testing.T) {
	s := LeNet300()
	s.Name = "torch_jit"
	if got := Identify(s); got != "lenet300" {
		t.Errorf("Identify = %q, want lenet300", got)
	}
	s.Layers[1].Out = 301
	if got := Identify(s); got != "torch_jit" {
		t.Errorf("Identify of a changed net = %q, want its own name", got)
	}
}
