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

// TestLeNet5Synthetic reports the table for LeNet-5 with stand-in weights.
func TestLeNet5Synthetic(t *testing.T) {
	st, err := ReadStats(bytes.NewReader(encode(t, lenet5())))
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	st.WriteText(&text)
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
	for _, m := range []*Model{lenet300(t, true), lenet5()} {
		entropyBound := m.Spec.Name == "lenet300"
		for _, l := range m.Layers {
			ib := l.IndexBits
			gaps, err := gapSymbols(l.Pos, numel(l.Shape), ib)
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
				t.Logf("%s %-12s %-7s %6d symbols: %.3f bits/symbol, %.4f x optimal, %.4f x entropy, table+header %d bytes",
					m.Spec.Name, l.Name, s.what, len(s.syms), float64(coded)/float64(len(s.syms)),
					float64(coded)/float64(optimal), float64(coded)/entropy, table)
				if float64(coded) > 1.005*float64(optimal) || entropyBound && float64(coded) > 1.02*entropy {
					t.Errorf("%s %s: %d bits; optimal %d, entropy %.0f", l.Name, s.what, coded, optimal, entropy)
				}
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
