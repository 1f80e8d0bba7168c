package dcz

import (
	"bytes"
	"math"
	"testing"

	"github.com/deepcompress/deepcompress/huffman"
)

// TestLeNet300Real compresses the trained LeNet-300-100 (pruned by
// magnitude as in Table 2 and quantized to 6 bits, without retraining):
// the file must reach the paper's 40x, biases included.
func TestLeNet300Real(t *testing.T) {
	m := lenet300(t, true)
	data := encode(t, m)
	st, err := ReadStats(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	st.WriteText(&text)
	t.Logf("\n%s", text.String())
	if st.Total.Ratio < 40 {
		t.Errorf("ratio %.2fx, want at least 40x", st.Total.Ratio)
	}
}

// TestLeNet5Synthetic checks the statistics of LeNet-5 with stand-in
// weights against what was stored: each layer's kept fraction (Table 3's
// 66 %, 12 %, 8 %, 19 %), its widths (8-bit conv, 5-bit fc), the totals
// adding up to the file, and the printed table naming every layer.
func TestLeNet5Synthetic(t *testing.T) {
	m := lenet5()
	data := encode(t, m)
	st, err := ReadStats(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]float64{"conv1.weight": 66, "conv2.weight": 12, "fc1.weight": 8, "fc2.weight": 19}
	bits := map[string]int{"conv1.weight": 8, "conv2.weight": 8, "fc1.weight": 5, "fc2.weight": 5}
	if len(st.Layers) != len(keep) {
		t.Fatalf("%d layers, want %d", len(st.Layers), len(keep))
	}
	var text bytes.Buffer
	st.WriteText(&text)
	for i, l := range st.Layers {
		if l.Kept != len(m.Layers[i].Pos) || math.Abs(l.KeptPct-keep[l.Name]) > 0.5 {
			t.Errorf("%s: %d kept (%.2f %%), stored %d, want %.0f %%", l.Name, l.Kept, l.KeptPct, len(m.Layers[i].Pos), keep[l.Name])
		}
		if l.WeightBits != bits[l.Name] || l.IndexBits != bits[l.Name] {
			t.Errorf("%s: %d-bit weights, %d-bit gaps, want %d", l.Name, l.WeightBits, l.IndexBits, bits[l.Name])
		}
		if !bytes.Contains(text.Bytes(), []byte(l.Name)) {
			t.Errorf("the table has no row %s:\n%s", l.Name, text.String())
		}
	}
	tot := st.Total
	if tot.FileBytes != int64(len(data)) || tot.LayerBytes+tot.RawBytes+tot.OverheadBytes != tot.FileBytes {
		t.Errorf("file %d bytes; stats %d = %d layers + %d raw + %d overhead", len(data), tot.FileBytes, tot.LayerBytes, tot.RawBytes, tot.OverheadBytes)
	}
	if want := float64(tot.DenseBytes) / float64(tot.FileBytes); tot.DenseBytes != 4*431080 || math.Abs(tot.Ratio-want) > 1e-9 {
		t.Errorf("dense %d bytes, ratio %.3f, want 4*431080 bytes and %.3f", tot.DenseBytes, tot.Ratio, want)
	}
	t.Logf("\n%s", text.String())
}

// TestHuffmanOnLayerStreams checks the acceptance bounds of the Huffman
// coder on the streams of the trained LeNet-300-100: the codewords within
// 0.5 % of an unlimited optimal Huffman code and within 2 % of the
// empirical entropy. On the synthetic LeNet-5 only the first bound holds
// everywhere: conv1 keeps 66 % of its weights, so two thirds of its gaps
// are 1 and their entropy (1.38 bits) is below what any code of whole bits
// per symbol reaches.
func TestHuffmanOnLayerStreams(t *testing.T) {
	t.Run("lenet300", func(t *testing.T) { checkLayerStreams(t, lenet300(t, true), true) })
	t.Run("lenet5", func(t *testing.T) { checkLayerStreams(t, lenet5(), false) })
}

// checkLayerStreams checks the bounds of TestHuffmanOnLayerStreams on the
// index and gap streams of every layer of m; entropyBound adds the second.
func checkLayerStreams(t *testing.T, m *Model, entropyBound bool) {
	for _, l := range m.Layers {
		gaps, err := gapSymbols(l.Pos, numel(l.Shape), l.IndexBits)
		if err != nil {
			t.Fatal(err)
		}
		idx := make([]uint32, len(l.Idx))
		for i, v := range l.Idx {
			idx[i] = uint32(v)
		}
		for _, s := range []struct {
			what string
			syms []uint32
		}{{"indices", idx}, {"gaps", gaps}} {
			coded, optimal, entropy, table := figures(t, s.syms)
			t.Logf("%-12s %-7s %6d symbols: %.3f bits/symbol, %.4f x optimal, %.4f x entropy, table+header %d bytes",
				l.Name, s.what, len(s.syms), float64(coded)/float64(len(s.syms)),
				float64(coded)/float64(optimal), float64(coded)/entropy, table)
			if float64(coded) > 1.005*float64(optimal) || entropyBound && float64(coded) > 1.02*entropy {
				t.Errorf("%s %s: %d bits; optimal %d, entropy %.0f", l.Name, s.what, coded, optimal, entropy)
			}
		}
	}
}

// figures returns the coded size of syms (codewords only), the size under
// an unlimited optimal Huffman code (package-merge with a 40-bit limit, the
// same as unlimited for these counts), n times the empirical entropy, and
// the block bytes spent on anything but codewords.
func figures(tb testing.TB, syms []uint32) (coded, optimal uint64, entropy float64, table int) {
	lengths, err := huffman.Lengths(syms, 0)
	if err != nil {
		tb.Fatal(err)
	}
	counts := make([]uint64, len(lengths))
	for _, s := range syms {
		counts[s]++
	}
	opt, err := huffman.CodeLengths(counts, 40)
	if err != nil {
		tb.Fatal(err)
	}
	for s, c := range counts {
		coded += c * uint64(lengths[s])
		optimal += c * uint64(opt[s])
		if c > 0 {
			entropy -= float64(c) * math.Log2(float64(c)/float64(len(syms)))
		}
	}
	blk, err := huffman.Encode(nil, syms, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return coded, optimal, entropy, len(blk) - int((coded+7)/8)
}
