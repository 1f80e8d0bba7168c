package sparse

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPaperExample reproduces figure 2 of the paper: 3-bit gaps (span 8),
// survivors at 1, 4 and 15 are stored as gaps 1, 3, a filler of gap 8, 3.
func TestPaperExample(t *testing.T) {
	gaps, fillers, err := Encode([]uint32{1, 4, 15}, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{1, 3, 8, 3}; !slices.Equal(gaps, want) {
		t.Errorf("gaps %v, want %v", gaps, want)
	}
	if want := []int{2}; !slices.Equal(fillers, want) {
		t.Errorf("fillers %v, want %v", fillers, want)
	}
	pos, err := Decode(gaps, fillers, 16, 3)
	if err != nil || !slices.Equal(pos, []uint32{1, 4, 15}) {
		t.Errorf("Decode = %v, %v", pos, err)
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name    string
		pos     []uint32
		n, bits int
		gaps    []uint32
		fillers []int
	}{
		{"empty", nil, 10, 3, []uint32{}, nil},
		{"empty tensor", nil, 0, 3, []uint32{}, nil},
		{"position 0", []uint32{0}, 1, 3, []uint32{0}, nil},
		{"dense", []uint32{0, 1, 2, 3}, 4, 1, []uint32{0, 1, 1, 1}, nil},
		{"first at span", []uint32{8}, 9, 3, []uint32{8}, nil},
		{"first past span", []uint32{9}, 10, 3, []uint32{8, 1}, []int{0}},
		{"gap exactly span", []uint32{0, 8}, 9, 3, []uint32{0, 8}, nil},
		{"gap 2 spans", []uint32{0, 16}, 17, 3, []uint32{0, 8, 8}, []int{1}},
		{"gap 2 spans + 1", []uint32{0, 17}, 18, 3, []uint32{0, 8, 8, 1}, []int{1, 2}},
		{"1-bit gaps", []uint32{5}, 6, 1, []uint32{2, 2, 1}, []int{0, 1}},
		{"last position", []uint32{1<<32 - 1}, 1 << 32, 16, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gaps, fillers, err := Encode(tc.pos, tc.n, tc.bits)
			if err != nil {
				t.Fatal(err)
			}
			if tc.gaps != nil && (!slices.Equal(gaps, tc.gaps) || !slices.Equal(fillers, tc.fillers)) {
				t.Errorf("got %v %v, want %v %v", gaps, fillers, tc.gaps, tc.fillers)
			}
			if m := Entries(tc.pos, tc.bits); m != len(gaps) {
				t.Errorf("Entries = %d, Encode made %d", m, len(gaps))
			}
			pos, err := Decode(gaps, fillers, tc.n, tc.bits)
			if err != nil || !slices.Equal(pos, tc.pos) && len(tc.pos)+len(pos) > 0 {
				t.Errorf("Decode = %v, %v; want %v", pos, err, tc.pos)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		pos     []uint32
		n, bits int
	}{
		{"bits 0", []uint32{1}, 4, 0},
		{"bits 17", []uint32{1}, 4, 17},
		{"negative n", nil, -1, 3},
		{"n too large", nil, 1<<32 + 1, 3},
		{"out of range", []uint32{4}, 4, 3},
		{"not ascending", []uint32{2, 1}, 4, 3},
		{"duplicate", []uint32{2, 2}, 4, 3},
	}
	for _, tc := range tests {
		if _, _, err := Encode(tc.pos, tc.n, tc.bits); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		gaps    []uint32
		fillers []int
		n       int
	}{
		{"gap 0 after first", []uint32{1, 0}, nil, 16},
		{"gap over span", []uint32{9}, nil, 16},
		{"filler gap not span", []uint32{7, 1}, []int{0}, 16},
		{"trailing filler", []uint32{1, 8}, []int{1}, 16},
		{"only a filler", []uint32{8}, []int{0}, 16},
		{"filler index out of range", []uint32{1}, []int{1}, 16},
		{"filler indices descending", []uint32{8, 8, 1}, []int{1, 0}, 32},
		{"filler index repeated", []uint32{8, 8, 1}, []int{0, 0}, 32},
		{"negative filler index", []uint32{1}, []int{-1}, 16},
		{"position past n", []uint32{3, 3}, nil, 6},
	}
	for _, tc := range tests {
		if _, err := Decode(tc.gaps, tc.fillers, tc.n, 3); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", tc.name, err)
		}
	}
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := r.IntN(5000)
		keep := r.Float64()
		var pos []uint32
		for p := range n {
			if r.Float64() < keep*keep*keep {
				pos = append(pos, uint32(p))
			}
		}
		bits := 1 + r.IntN(8)
		gaps, fillers, err := Encode(pos, n, bits)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(gaps, fillers, n, bits)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if !slices.Equal(got, pos) && len(got)+len(pos) > 0 {
			t.Fatalf("trial %d: positions differ", trial)
		}
		span := Span(bits)
		for i, g := range gaps {
			if g > span || (i > 0 && g == 0) {
				t.Fatalf("trial %d: gap %d at %d outside range", trial, g, i)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 3, 8, 3}, []byte{2}, 16, 3)
	f.Add([]byte{0, 1, 1}, []byte{}, 3, 1)
	f.Fuzz(func(t *testing.T, g, fl []byte, n, bits int) {
		gaps := make([]uint32, len(g))
		for i, v := range g {
			gaps[i] = uint32(v)
		}
		fillers := make([]int, len(fl))
		for i, v := range fl {
			fillers[i] = int(v)
		}
		pos, err := Decode(gaps, fillers, n, bits)
		if err != nil {
			return
		}
		// Canonical: what Decode accepts, Encode reproduces.
		g2, f2, err := Encode(pos, n, bits)
		if err != nil {
			t.Fatalf("Encode of decoded positions: %v", err)
		}
		if !slices.Equal(g2, gaps) || !slices.Equal(f2, fillers) && len(f2)+len(fillers) > 0 {
			t.Fatalf("not canonical: %v %v re-encode to %v %v", gaps, fillers, g2, f2)
		}
	})
}
