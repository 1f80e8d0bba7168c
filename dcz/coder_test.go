package dcz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/cabac"
	"github.com/deepcompress/deepcompress/quantize"
)

// arithModel returns m with every layer's coder set to c.
func arithModel(m *Model, c Coder) *Model {
	m.SetCoder(c)
	return m
}

// sectionSizes reads data and returns each layer section's size and the
// coder it used, by name.
func sectionSizes(t *testing.T, data []byte) (map[string]int, map[string]Coder) {
	t.Helper()
	d, err := NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	size, coder := map[string]int{}, map[string]Coder{}
	for {
		s, err := d.Next()
		if err == io.EOF {
			return size, coder
		}
		if err != nil {
			t.Fatal(err)
		}
		if s.Layer != nil {
			size[s.Layer.Name], coder[s.Layer.Name] = s.Size, s.Layer.Coder
		}
	}
}

// TestGoldenArith decodes testdata/golden_arith.dcz (dissected in
// docs/FORMAT.md), the tiny model with its weight arithmetic-coded (flag
// 0x20 of the kind byte), and checks that encoding reproduces it.
func TestGoldenArith(t *testing.T) {
	m := arithModel(tinyModel(), CoderArith)
	data := goldenFile(t, "golden_arith.dcz", m)
	kindAt := bytes.Index(data, []byte("fc.weight")) + len("fc.weight")
	if data[4] != 1 || data[kindAt] != 0x21 {
		t.Errorf("version %d, kind byte %#x; want version 1, 0x21", data[4], data[kindAt])
	}
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 0, -0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.25}
	if w := got.DenseWeights(); !slices.Equal(w["fc.weight"], want) {
		t.Errorf("fc.weight = %v, want %v", w["fc.weight"], want)
	}
	if got.Layers[0].Coder != CoderArith || got.Layers[0].IndexBits != 3 {
		t.Errorf("coder %v, index bits %d", got.Layers[0].Coder, got.Layers[0].IndexBits)
	}
	if err := equalModels(m, got); err != nil {
		t.Error(err)
	}
	if again := encode(t, got); !bytes.Equal(again, data) {
		t.Errorf("encoder output drifted from testdata/golden_arith.dcz (%d vs %d bytes)", len(again), len(data))
	}
	// A reader that knew only flag 0x10 refuses the section by its flag.
	old := parseKindByteWith(data[kindAt], flagHalfCodebook)
	if old == nil || old.Error() != "unknown flags 0x20 in the kind byte 0x21" {
		t.Errorf("a reader without flag 0x20: %v", old)
	}
}

// parseKindByteWith is parseKindByte's flag check with only the flags
// known given, as a reader from before a flag runs it.
func parseKindByteWith(b, known byte) error {
	if f := b &^ (kindMask | known); f != 0 {
		return fmt.Errorf("unknown flags 0x%02x in the kind byte 0x%02x", f, b)
	}
	return nil
}

// TestCoderRoundTrip: every model of TestRoundTrip's kind written with
// each coder reads back as written, re-encodes to the same bytes, and
// CoderAuto's section of every layer is the smaller of the other two
// (Huffman on a tie), so it never loses to Huffman.
func TestCoderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	random := quantize.Layer{Shape: []int{40, 50}, Bits: 3, Codebook: []float32{-1, -0.5, 0.5, 1, 2}}
	for p := range 2000 {
		if r.Float64() < 0.1 {
			random.Pos = append(random.Pos, uint32(p))
			random.Idx = append(random.Idx, uint16(r.IntN(5)))
		}
	}
	dense := quantize.Layer{Shape: []int{7, 9}, Bits: 2, Codebook: []float32{1, 2, 3}, Pos: seq(0, 63, 1), Idx: make([]uint16, 63)}
	models := map[string]func() *Model{
		"tiny":     tinyModel,
		"small":    smallModel,
		"lenet300": func() *Model { return lenet300(t, false) },
		"lenet5":   lenet5,
		"tensors":  tensorsOnlyModel,
		"half":     func() *Model { return halfTiny(t) },
		"empty":    func() *Model { return layerModel(quantize.Layer{Shape: []int{10, 20}, Bits: 1}, 5) },
		"random":   func() *Model { return layerModel(random, 1) },
		"dense":    func() *Model { return layerModel(dense, 4) },
		"scalar": func() *Model {
			return &Model{Spec: tensorsOnlyModel().Spec, Layers: []Layer{{Layer: quantize.Layer{Name: "s", Shape: []int{}, Bits: 1, Codebook: []float32{3}, Pos: []uint32{0}, Idx: []uint16{0}}}}}
		},
	}
	for name, mk := range models {
		t.Run(name, func(t *testing.T) {
			sizes := map[Coder]map[string]int{}
			var chosen map[string]Coder
			for _, c := range []Coder{CoderHuffman, CoderArith, CoderAuto} {
				m := arithModel(mk(), c)
				data := encode(t, m)
				got, err := Read(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("%v: %v", c, err)
				}
				if err := equalModels(m, got); err != nil {
					t.Fatalf("%v: %v", c, err)
				}
				if again := encode(t, got); !bytes.Equal(again, data) {
					t.Fatalf("%v: re-encoding the decoded model changed the file", c)
				}
				sizes[c], chosen = sectionSizes(t, data)
			}
			for l, auto := range sizes[CoderAuto] {
				h, a := sizes[CoderHuffman][l], sizes[CoderArith][l]
				if auto != min(h, a) || (h <= a) != (chosen[l] == CoderHuffman) {
					t.Errorf("%s: auto %d bytes (%v), Huffman %d, arith %d", l, auto, chosen[l], h, a)
				}
			}
		})
	}
}

// TestCoderDefaultUnchanged: a model written without choosing a coder,
// and one set to CoderHuffman, are byte for byte the same file (the
// golden files pin that file).
func TestCoderDefaultUnchanged(t *testing.T) {
	if !bytes.Equal(encode(t, lenet5()), encode(t, arithModel(lenet5(), CoderHuffman))) {
		t.Error("CoderHuffman changed the file")
	}
	if CoderHuffman != 0 {
		t.Error("the zero Coder is not Huffman")
	}
}

func TestParseCoder(t *testing.T) {
	for _, c := range Coders {
		if got, err := ParseCoder(c.String()); err != nil || got != c {
			t.Errorf("%v: %v, %v", c, got, err)
		}
	}
	m := tinyModel()
	m.Layers[0].Coder = 7
	if err := Write(io.Discard, m); err == nil {
		t.Error("an unknown coder was written")
	}
	if _, err := ParseCoder("cabac"); err == nil {
		t.Error("ParseCoder accepted an unknown name")
	}
	var cfg struct {
		Coder Coder `json:"coder,omitempty"`
	}
	if b, _ := json.Marshal(cfg); string(b) != "{}" {
		t.Errorf("the default coder marshals to %s", b)
	}
	if err := json.Unmarshal([]byte(`{"coder":"arith"}`), &cfg); err != nil || cfg.Coder != CoderArith {
		t.Errorf("unmarshal: %v, %v", cfg.Coder, err)
	}
	if b, _ := json.Marshal(cfg); string(b) != `{"coder":"arith"}` {
		t.Errorf("marshal: %s", b)
	}
	if err := json.Unmarshal([]byte(`{"coder":"zip"}`), &cfg); err == nil {
		t.Error("unmarshal accepted an unknown coder")
	}
}

// TestFillerCount: the fillers counted for an arithmetic-coded layer are
// those its Huffman form holds, for every gap width.
func TestFillerCount(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		n := 1 + r.IntN(5000)
		var pos []uint32
		keep := r.Float64() * 0.2
		for p := range n {
			if r.Float64() < keep {
				pos = append(pos, uint32(p))
			}
		}
		ib := 1 + r.IntN(8)
		gaps, err := gapSymbols(pos, n, ib)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fillerCount(pos, ib), len(gaps)-len(pos); got != want {
			t.Fatalf("n %d, %d kept, ib %d: %d fillers, want %d", n, len(pos), ib, got, want)
		}
	}
}

// TestArithBitFlips flips every bit of two arithmetic-coded files and cuts
// them at every length: each must be an error (the checksums catch what
// the arithmetic decoder accepts).
func TestArithBitFlips(t *testing.T) {
	for _, m := range []*Model{tinyModel(), smallModel()} {
		data := encode(t, arithModel(m, CoderArith))
		for i := range 8 * len(data) {
			bad := slices.Clone(data)
			bad[i/8] ^= 1 << (i % 8)
			mustFail(t, fmt.Sprintf("bit %d of %d", i, 8*len(data)), bad)
		}
		mustRefuseCuts(t, data)
	}
}

// TestArithCorruptStream: a damaged stream behind a repaired checksum is
// refused with a FormatError that wraps cabac's error and points into the
// stream.
func TestArithCorruptStream(t *testing.T) {
	data := encode(t, arithModel(smallModel(), CoderArith))
	d, err := NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	end := int(s.Offset) + s.Size - 4 // the section's checksum
	refused := 0
	for i := end - s.CodedBytes; i < end; i++ {
		bad := slices.Clone(data)
		bad[i] ^= 0x10
		_, err := Read(bytes.NewReader(FixChecksums(bad)))
		var fe *FormatError
		if err == nil {
			continue // an arithmetic code has little redundancy
		}
		if !errors.As(err, &fe) || !errors.Is(err, cabac.ErrCorrupt) || fe.Offset < int64(end-s.CodedBytes) || fe.Offset > int64(end) {
			t.Fatalf("byte %d: %v", i, err)
		}
		refused++
	}
	if refused == 0 {
		t.Error("no damaged stream refused by the arithmetic decoder")
	}
	t.Logf("%d of %d damaged stream bytes refused behind a repaired checksum", refused, s.CodedBytes)
}

// TestArithBudget: an arithmetic-coded section declaring a huge tensor in
// a few bytes is refused before its output is allocated.
func TestArithBudget(t *testing.T) {
	defer budget.Default.SetLimit(budget.Default.Limit())
	m := tensorsOnlyModel()
	m.Layers = []Layer{{Layer: quantize.Layer{Name: "w", Shape: []int{1 << 10, 1 << 11}, Bits: 1, Codebook: []float32{1}, Pos: seq(0, 1<<21, 1), Idx: make([]uint16, 1<<21)}, Coder: CoderArith}}
	m.Raw = nil
	data := encode(t, m)
	if len(data) > 1<<10 {
		t.Fatalf("%d bytes for a full 1-value tensor", len(data))
	}
	budget.Default.SetLimit(10 << 20) // the dense form (8 MiB) fits, 6 bytes a position do not
	err := mustFail(t, "huge tensor", data)
	var ee *budget.ExceededError
	if !errors.As(err, &ee) {
		t.Errorf("%v is not a budget error", err)
	}
}
