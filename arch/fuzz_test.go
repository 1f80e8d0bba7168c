package arch

import (
	"reflect"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
)

// FuzzParse: no description makes Parse, Footprint, CheckBudget or Params
// panic, and an accepted one reads back the same from its JSON.
func FuzzParse(f *testing.F) {
	f.Add(string(LeNet300().JSON()))
	f.Add(string(LeNet5().JSON()))
	f.Add(`{"input":[16777216],"layers":[{"kind":"dense","name":"fc","out":16777216}]}`)
	f.Add(`{"input":[1,28,28],"layers":[{"kind":"conv2d","name":"c","out":4,"kernel":[3,3],"pad":[1,1],"colour":1}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		s, err := Parse([]byte(data))
		if err != nil {
			return
		}
		if _, err := s.Footprint(); err != nil {
			t.Fatalf("accepted spec has no footprint: %v", err)
		}
		_ = s.CheckBudget(budget.New(1<<30), 3, 64)
		if _, err := s.Params(); err != nil {
			t.Fatalf("accepted spec has no params: %v", err)
		}
		back, err := Parse(s.JSON())
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("JSON round trip: %v", err)
		}
	})
}

// TestParseStrict: unknown fields and trailing data are refused, and the
// footprint of a 2^24-wide dense layer is over a small budget.
func TestParseStrict(t *testing.T) {
	for _, bad := range []string{
		`{"input":[4],"layers":[{"kind":"dense","name":"a","out":2,"kernal":[3,3]}]}`,
		`{"input":[4],"layers":[{"kind":"dense","name":"a","out":2}],"extra":1}`,
		`{"input":[4],"layers":[{"kind":"dense","name":"a","out":2}]} {}`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	s, err := Parse([]byte(`{"input":[16777216],"layers":[{"kind":"dense","name":"fc","out":16777216}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckBudget(budget.New(4<<30), 2, 1); err == nil {
		t.Error("a 2^48-parameter layer fits 4 GiB")
	}
	if err := LeNet5().CheckBudget(budget.New(64<<20), 3, 64); err != nil {
		t.Errorf("LeNet-5 refused: %v", err)
	}
}
