package cabac

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomTensor draws a rows x cols tensor whose non-zeros (density d) have
// bell-shaped codebook indices below m, with some empty columns and rows.
func randomTensor(rng *rand.Rand, rows, cols, m int, d float64) ([]uint32, []uint16) {
	var pos []uint32
	var idx []uint16
	if m == 0 {
		return nil, nil
	}
	emptyCol := make([]bool, cols)
	for j := range emptyCol {
		emptyCol[j] = rng.Float64() < 0.2
	}
	for i := range rows {
		if rng.Float64() < 0.05 {
			continue
		}
		for j := range cols {
			if emptyCol[j] || rng.Float64() >= d {
				continue
			}
			v := int(rng.NormFloat64()*float64(m)/6 + float64(m)/2)
			v = min(max(v, 0), m-1)
			pos = append(pos, uint32(i*cols+j))
			idx = append(idx, uint16(v))
		}
	}
	return pos, idx
}

func roundTrip(t *testing.T, rows, cols int, pos []uint32, idx []uint16, m int) []byte {
	t.Helper()
	var enc Encoder
	var dec Decoder
	b, err := enc.EncodeSparse([]byte("prefix"), rows, cols, pos, idx, m)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" {
		t.Fatal("dst prefix overwritten")
	}
	b = b[6:]
	gp, gi, err := dec.DecodeSparse(b, rows, cols, m, nil, nil)
	if err != nil {
		t.Fatalf("%dx%d m=%d n=%d: %v", rows, cols, m, len(pos), err)
	}
	if !slices.Equal(gp, pos) && !(len(gp) == 0 && len(pos) == 0) || !slices.Equal(gi, idx) && !(len(gi) == 0 && len(idx) == 0) {
		t.Fatalf("%dx%d m=%d: round trip differs", rows, cols, m)
	}
	return b
}

// TestRoundTrip codes tensors of every shape class, alphabet size and
// density. The LeNet-sized 300x784 takes nine tenths of the time; with
// -short it runs three alphabet sizes, the small shapes all of them.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {1, 37}, {37, 1}, {10, 100}, {300, 784}, {64, 75}} {
		for _, m := range []int{0, 1, 2, 3, 5, 16, 64, 255, 256, 257, 1000, 1 << 16} {
			if testing.Short() && sh[0]*sh[1] > 10000 && m != 3 && m != 64 && m != 1<<16 {
				continue
			}
			for _, d := range []float64{0, 0.01, 0.1, 0.5, 1} {
				pos, idx := randomTensor(rng, sh[0], sh[1], m, d)
				roundTrip(t, sh[0], sh[1], pos, idx, m)
			}
		}
	}
}

// TestGapProfile round-trips tensors through the gap profile, whatever
// profile the encoder would choose, and checks that a tensor's stream in
// it decodes to the same tensor as its stream in a per-position profile.
func TestGapProfile(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var enc Encoder
	var dec Decoder
	for _, sh := range [][2]int{{0, 0}, {1, 1}, {1, 37}, {37, 1}, {10, 100}, {64, 75}, {3, 70000}} {
		for _, m := range []int{0, 1, 2, 3, 31, 256, 257, 1000, 1 << 16} {
			for _, d := range []float64{0, 0.003, 0.1, 0.5, 1} {
				pos, idx := randomTensor(rng, sh[0], sh[1], m, d)
				b := enc.encode(nil, sh[0], sh[1], pos, idx, m, profGaps)
				gp, gi, err := dec.DecodeSparse(b, sh[0], sh[1], m, nil, nil)
				if err != nil {
					t.Fatalf("%v m=%d d=%g: %v", sh, m, d, err)
				}
				if len(gp) != len(pos) || len(pos) > 0 && (!slices.Equal(gp, pos) || !slices.Equal(gi, idx)) {
					t.Fatalf("%v m=%d d=%g: round trip differs", sh, m, d)
				}
			}
		}
	}
	// Runs longer than 2^16 positions code their low bits in two pieces.
	pos := []uint32{5, 1 << 20, 1<<20 + 1, 3 << 22}
	idx := []uint16{1, 0, 2, 1}
	b := enc.encode(nil, 1<<12, 1<<12, pos, idx, 3, profGaps)
	if gp, gi, err := dec.DecodeSparse(b, 1<<12, 1<<12, 3, nil, nil); err != nil || !slices.Equal(gp, pos) || !slices.Equal(gi, idx) {
		t.Fatalf("long runs: %v %v %v", gp, gi, err)
	}
}

func TestDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows, cols, k := 40, 50, 17
	vals := make([]uint8, rows*cols)
	for i := range vals {
		if rng.Float64() < 0.1 {
			vals[i] = uint8(1 + rng.IntN(k-1))
		}
	}
	b, err := EncodeTensor(nil, rows, cols, vals, k)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]uint8, rows*cols)
	if err := DecodeTensor(b, rows, cols, k, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, vals) {
		t.Fatal("dense round trip differs")
	}
	if err := DecodeTensor(b, rows, cols, 300, got); err == nil {
		t.Fatal("alphabet of 300 accepted for uint8")
	}
}

func TestCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pos, idx := randomTensor(rng, 50, 60, 20, 0.1)
	var enc Encoder
	var dec Decoder
	b, _ := enc.EncodeSparse(nil, 50, 60, pos, idx, 20)
	for _, bad := range [][]byte{nil, {0x40}, append(slices.Clone(b), 0), append(slices.Clone(b), 1, 2)} {
		if _, _, err := dec.DecodeSparse(bad, 50, 60, 20, nil, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("% x...: err %v, want ErrCorrupt", bad[:min(len(bad), 4)], err)
		}
	}
}

func TestBoundClose(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var enc Encoder
	for _, d := range []float64{0.02, 0.1, 0.4} {
		pos, idx := randomTensor(rng, 300, 784, 64, d)
		b, err := enc.EncodeSparse(nil, 300, 784, pos, idx, 64)
		if err != nil {
			t.Fatal(err)
		}
		c, err := enc.Bound(300, 784, pos, idx, 64)
		if err != nil {
			t.Fatal(err)
		}
		if over := float64(len(b))/c.Bytes() - 1; over > 0.005 || over < -0.005 {
			t.Errorf("density %g: %d bytes, bound %.1f (%+.3f %%)", d, len(b), c.Bytes(), 100*over)
		}
	}
}

// TestBitFlips flips every bit of a stream and cuts it at every length:
// decoding must not panic, and the canonical ending rejects at least 95 %
// of each (package doc: 895 of the 904 flips; the rest decode to another
// tensor, which the container's checksum catches).
func TestBitFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pos, idx := randomTensor(rng, 30, 40, 16, 0.1)
	var enc Encoder
	b, _ := enc.EncodeSparse(nil, 30, 40, pos, idx, 16)
	t.Run("per-position", func(t *testing.T) { bitFlips(t, b, 95) })
	// Six coders of about 10 bytes each: more of the bits are near the
	// ends, whose checks are weaker.
	t.Run("gaps", func(t *testing.T) { bitFlips(t, enc.encode(nil, 30, 40, pos, idx, 16, profGaps), 90) })
}

// bitFlips checks that at least pct % of the single-bit flips of b and
// at most 5 % of its truncations are rejected.
func bitFlips(t *testing.T, b []byte, pct int) {
	var dec Decoder
	rejected := 0
	for i := range 8 * len(b) {
		c := slices.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		if _, _, err := dec.DecodeSparse(c, 30, 40, 16, nil, nil); err != nil {
			rejected++
		}
	}
	t.Logf("%d of %d single-bit flips rejected", rejected, 8*len(b))
	if rejected < 8*len(b)*pct/100 {
		t.Errorf("%d of %d single-bit flips rejected, want at least %d %%", rejected, 8*len(b), pct)
	}
	accepted := 0
	for n := range len(b) {
		if _, _, err := dec.DecodeSparse(b[:n], 30, 40, 16, nil, nil); err == nil {
			t.Logf("truncation to %d of %d bytes accepted", n, len(b))
			accepted++
		}
	}
	if accepted > len(b)*5/100 {
		t.Errorf("%d of %d truncations accepted, want at most 5 %%", accepted, len(b))
	}
}

// TestShortStreamBound codes the cheapest tensors there are (all pruned,
// all kept with one codebook entry) in a per-position profile and checks
// that their streams stay within the decoder's bound of (b+1)*2^19
// positions for b bytes; in the gap profile, which has no such bound, the
// all-pruned tensor takes a few bytes.
func TestShortStreamBound(t *testing.T) {
	var enc Encoder
	var dec Decoder
	const rows, cols = 2048, 2048
	for _, kept := range []bool{false, true} {
		var pos []uint32
		var idx []uint16
		if kept {
			for p := range rows * cols {
				pos = append(pos, uint32(p))
				idx = append(idx, 0)
			}
		}
		b := enc.encode(nil, rows, cols, pos, idx, 1, 0)
		if limit := (len(b)) << 19; rows*cols > limit {
			t.Fatalf("kept=%v: %d bytes for %d positions, over the bound %d", kept, len(b), rows*cols, limit)
		}
		t.Logf("kept=%v: %d positions in %d bytes (bound %d)", kept, rows*cols, len(b), len(b)<<19)
		if _, _, err := dec.DecodeSparse(b, rows, cols, 1, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := dec.DecodeSparse([]byte{0, 1}, 4096, 4096, 2, nil, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("2 bytes for 2^24 positions: %v", err)
	}
	b := enc.encode(nil, 65536, 65536, nil, nil, 2, profGaps)
	if len(b) > 12 {
		t.Errorf("all-pruned 2^32 positions in the gap profile: %d bytes", len(b))
	}
	if p, _, err := dec.DecodeSparse(b, 65536, 65536, 2, nil, nil); err != nil || len(p) != 0 {
		t.Fatalf("all-pruned 2^32 positions in the gap profile: %v, %d kept", err, len(p))
	}
}
