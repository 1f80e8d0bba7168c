package huffman_test

import (
	"fmt"

	"github.com/deepcompress/deepcompress/huffman"
)

// Codebook indices of a weight-shared layer: a few values are common, so
// they get short codewords. The block stores only the code lengths
// (a canonical code) and decodes back to the same symbols.
func ExampleEncode() {
	syms := []uint8{2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 3, 3, 0, 2}
	block, err := huffman.Encode(nil, syms, nil)
	if err != nil {
		panic(err)
	}
	got, n, err := huffman.Decode[uint8](nil, block, len(syms), 4)
	if err != nil {
		panic(err)
	}
	lengths, _ := huffman.Lengths(syms, 0)
	fmt.Println("code lengths of symbols 0-3:", lengths)
	fmt.Printf("%d symbols in %d bytes (%d read back)\n", len(syms), len(block), n)
	fmt.Println(got)
	// Output:
	// code lengths of symbols 0-3: [3 2 1 3]
	// 16 symbols in 10 bytes (10 read back)
	// [2 2 2 2 2 2 2 2 1 1 1 1 3 3 0 2]
}

// The optimal code lengths for the counts of four symbols, unlimited and
// limited to 2 bits (package-merge gives the best code within the limit).
func ExampleCodeLengths() {
	counts := []uint64{1, 9, 4, 2}
	free, _ := huffman.CodeLengths(counts, 15)
	short, _ := huffman.CodeLengths(counts, 2)
	fmt.Println(free, short)
	// Output:
	// [3 1 2 3] [2 2 2 2]
}
