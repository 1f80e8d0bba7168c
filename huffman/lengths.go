package huffman

import (
	"fmt"
	"math/bits"
	"slices"
)

// CodeLengths returns, for every symbol, the length of its codeword in the
// optimal prefix code whose lengths do not exceed maxLen: the lengths l_i
// minimise sum counts[i]*l_i subject to l_i <= maxLen and Kraft's
// inequality sum 2^-l_i <= 1 (with equality: the code is complete).
// Symbols with a zero count get length 0. A lone used symbol gets length 1.
//
// The method is package-merge (Larmore and Hirschberg, "A fast algorithm
// for optimal length-limited Huffman codes", JACM 1990), O(n*maxLen) time
// for n used symbols. It fails if 2^maxLen < n.
func CodeLengths(counts []uint64, maxLen int) ([]uint8, error) {
	lengths := make([]uint8, len(counts))
	var syms []int
	for s, c := range counts {
		if c > 0 {
			syms = append(syms, s)
		}
	}
	n := len(syms)
	switch {
	case n == 0:
		return lengths, nil
	case n == 1:
		lengths[syms[0]] = 1
		return lengths, nil
	case maxLen < 1 || maxLen > 63 || n > 1<<maxLen:
		return nil, fmt.Errorf("huffman: %d symbols cannot be coded in at most %d bits", n, maxLen)
	}
	// Leaves in ascending count order, ties by symbol, so the result is
	// deterministic.
	slices.SortStableFunc(syms, func(a, b int) int {
		switch {
		case counts[a] < counts[b]:
			return -1
		case counts[a] > counts[b]:
			return 1
		}
		return 0
	})
	leaf := make([]uint64, n)
	for i, s := range syms {
		leaf[i] = counts[s]
	}
	depth := packageMerge(leaf, maxLen)
	for i, s := range syms {
		lengths[s] = depth[i]
	}
	return lengths, nil
}

// packageMerge returns the code lengths of leaves sorted by ascending
// weight. The list of level 1 is the leaves; the list of level j merges
// the leaves with the pairs ("packages") of the list of level j-1. The
// optimal code takes the first 2n-2 items of the last list; a leaf's
// length is the number of levels in which it is selected.
func packageMerge(leaf []uint64, maxLen int) []uint8 {
	n := len(leaf)
	keep := 2*n - 2
	prev := slices.Clone(leaf)
	cur := make([]uint64, 0, keep)
	// isLeaf[j-1][k] reports whether item k of the level-j list is a leaf.
	isLeaf := make([][]bool, maxLen)
	for j := 2; j <= maxLen; j++ {
		flags := make([]bool, 0, keep)
		cur = cur[:0]
		li, pi, np := 0, 0, len(prev)/2
		for len(cur) < keep && (li < n || pi < np) {
			if pi >= np || (li < n && leaf[li] <= prev[2*pi]+prev[2*pi+1]) {
				cur = append(cur, leaf[li])
				flags = append(flags, true)
				li++
			} else {
				cur = append(cur, prev[2*pi]+prev[2*pi+1])
				flags = append(flags, false)
				pi++
			}
		}
		isLeaf[j-1] = flags
		prev, cur = cur, prev[:0]
	}
	depth := make([]uint8, n)
	take := keep
	for j := maxLen; j >= 1 && take > 0; j-- {
		leaves := take // level 1 holds only leaves
		if j > 1 {
			leaves = 0
			for _, l := range isLeaf[j-1][:take] {
				if l {
					leaves++
				}
			}
		}
		for i := range leaves {
			depth[i]++
		}
		take = 2 * (take - leaves)
	}
	return depth
}

// canonicalCodes assigns canonical codewords (RFC 1951, 3.2.2): shorter
// codes first, and within one length in symbol order. The returned codes
// are bit-reversed, ready to be emitted least-significant bit first.
func canonicalCodes(lengths []uint8) []uint32 {
	var count [MaxCodeLen + 2]uint32
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	var next [MaxCodeLen + 2]uint32
	code := uint32(0)
	for l := 1; l <= MaxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lengths))
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		codes[s] = bits.Reverse32(c) >> (32 - l)
	}
	return codes
}
