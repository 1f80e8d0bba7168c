package huffman

import (
	"testing"
)

// TestCompression checks the acceptance bounds on synthetic layer streams:
// the coded size (sum of codeword lengths) within 0.5 % of an unlimited
// optimal Huffman code and within 2 % of the empirical entropy.
func TestCompression(t *testing.T) {
	streams := []struct {
		name string
		syms []uint16
	}{
		{"6-bit indices 21K", bellIndices(21296, 6, 1)},
		{"5-bit gaps 21K", geometricGaps(21296, 5, 0.08, 2)},
		{"8-bit indices 25K", bellIndices(25000, 8, 3)},
		{"8-bit gaps 25K", geometricGaps(25000, 8, 0.12, 4)},
		{"6-bit indices 1M", bellIndices(1<<20, 6, 5)},
		{"5-bit gaps 1M", geometricGaps(1<<20, 5, 0.08, 6)},
	}
	for _, s := range streams {
		coded, optimal, entropy := compressionFigures(t, s.syms)
		t.Logf("%-18s coded %8d bits, %.4f x optimal, %.4f x entropy (%.3f bits/symbol)",
			s.name, coded, float64(coded)/float64(optimal), float64(coded)/entropy, float64(coded)/float64(len(s.syms)))
		if float64(coded) > 1.005*float64(optimal) {
			t.Errorf("%s: %d bits, more than 0.5 %% over the optimal %d", s.name, coded, optimal)
		}
		if float64(coded) > 1.02*entropy {
			t.Errorf("%s: %d bits, more than 2 %% over the entropy %.0f", s.name, coded, entropy)
		}
	}
}

// compressionFigures returns the coded size of syms in bits (codewords
// only), the size under an unlimited optimal Huffman code, and n times the
// empirical entropy.
func compressionFigures[S Symbol](tb testing.TB, syms []S) (coded, optimal uint64, entropy float64) {
	lengths, err := Lengths(syms, 0)
	if err != nil {
		tb.Fatal(err)
	}
	counts := histogram(syms)
	for s, c := range counts {
		coded += c * uint64(lengths[s])
	}
	optimal = heapHuffmanCost(counts)
	if optimal == 0 && len(syms) > 0 {
		optimal = uint64(len(syms)) // one symbol: a one-bit code
	}
	return coded, optimal, entropyBits(syms)
}
