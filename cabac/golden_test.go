package cabac

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// goldenTensor is a tensor of testdata/golden: NAME.txt holds "rows cols m"
// and one "position index" line per non-zero, NAME.cab its stream.
type goldenTensor struct {
	rows, cols, m int
	pos           []uint32
	idx           []uint16
}

func (g *goldenTensor) text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d %d %d\n", g.rows, g.cols, g.m)
	for i, p := range g.pos {
		fmt.Fprintf(&b, "%d %d\n", p, g.idx[i])
	}
	return b.Bytes()
}

func parseGolden(t *testing.T, data []byte) *goldenTensor {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	g := &goldenTensor{}
	if _, err := fmt.Sscan(lines[0], &g.rows, &g.cols, &g.m); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[1:] {
		var p uint32
		var v uint16
		if _, err := fmt.Sscan(l, &p, &v); err != nil {
			t.Fatal(err)
		}
		g.pos, g.idx = append(g.pos, p), append(g.idx, v)
	}
	return g
}

// goldenTensors are the tensors the golden streams were made from (with
// -update): small ones covering each profile feature.
func goldenTensors() map[string]*goldenTensor {
	rng := rand.New(rand.NewPCG(2016, 16))
	mk := func(rows, cols, m int, d float64) *goldenTensor {
		pos, idx := randomTensor(rng, rows, cols, m, d)
		return &goldenTensor{rows, cols, m, pos, idx}
	}
	return map[string]*goldenTensor{
		// The 3x4 layer of dcz/testdata/golden.dcz: codebook of 3, kept
		// weights at 0, 2 and 11 with indices 2, 0, 1.
		"tiny":      {3, 4, 3, []uint32{0, 2, 11}, []uint16{2, 0, 1}},
		"empty":     {5, 6, 4, nil, nil},
		"dense":     mk(6, 7, 2, 1.0),
		"sparse_64": mk(40, 60, 64, 0.08),
		"wide_300":  mk(12, 20, 300, 0.3), // 9-bit indices: one bypass bit
		"gaps_32":   iid(rng, 200, 400, 32, 0.08),
	}
}

// iid draws a tensor whose positions are kept independently with
// probability d and whose indices are bell-shaped, like the synthetic
// layers of a data-free file: the encoder picks the gap profile for it.
func iid(rng *rand.Rand, rows, cols, m int, d float64) *goldenTensor {
	g := &goldenTensor{rows: rows, cols: cols, m: m}
	for p := range rows * cols {
		if rng.Float64() < d {
			v := int(rng.NormFloat64()*float64(m)/6 + float64(m)/2)
			g.pos = append(g.pos, uint32(p))
			g.idx = append(g.idx, uint16(min(max(v, 0), m-1)))
		}
	}
	return g
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var enc Encoder
		for name, g := range goldenTensors() {
			b, err := enc.EncodeSparse(nil, g.rows, g.cols, g.pos, g.idx, g.m)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".txt"), g.text(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".cab"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.cab"))
	if len(names) < 6 {
		t.Fatalf("%d golden streams in %s, want 6", len(names), dir)
	}
	var enc Encoder
	var dec Decoder
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		txt, err := os.ReadFile(strings.TrimSuffix(name, ".cab") + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		g := parseGolden(t, txt)
		pos, idx, err := dec.DecodeSparse(src, g.rows, g.cols, g.m, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(pos) != len(g.pos) || len(pos) > 0 && (!slices.Equal(pos, g.pos) || !slices.Equal(idx, g.idx)) {
			t.Fatalf("%s: decodes to another tensor", name)
		}
		again, err := enc.EncodeSparse(nil, g.rows, g.cols, g.pos, g.idx, g.m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, src) {
			t.Errorf("%s: the encoder now writes % x, the golden stream is % x", name, again, src)
		}
		if strings.Contains(name, "gaps") != (src[0] == profGaps) {
			t.Errorf("%s: profile %#x", name, src[0])
		}
	}
}
