package huffman

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func roundTrip[S Symbol](t *testing.T, name string, syms []S, opt *Options) []byte {
	t.Helper()
	blk, err := Encode([]byte{0xAA}, syms, opt) // a prefix checks that Encode appends
	if err != nil {
		t.Fatalf("%s: Encode: %v", name, err)
	}
	if blk[0] != 0xAA {
		t.Fatalf("%s: Encode overwrote dst", name)
	}
	blk = blk[1:]
	trailer := append(slices.Clone(blk), 1, 2, 3) // Decode must stop at the block end
	got, used, err := Decode([]S(nil), trailer, len(syms), MaxSymbols)
	if err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	if used != len(blk) {
		t.Fatalf("%s: Decode used %d bytes, block has %d", name, used, len(blk))
	}
	if !slices.Equal(got, syms) && !(len(got) == 0 && len(syms) == 0) {
		i := 0
		for i < min(len(got), len(syms)) && got[i] == syms[i] {
			i++
		}
		t.Fatalf("%s: round trip differs at %d of %d", name, i, len(syms))
	}
	return blk
}

func randomSymbols(n, alphabet int, seed uint64) []uint32 {
	r := rand.New(rand.NewPCG(seed, 7))
	s := make([]uint32, n)
	for i := range s {
		s[i] = uint32(r.IntN(alphabet))
	}
	return s
}

func widen[S Symbol](s []S) []uint32 {
	o := make([]uint32, len(s))
	for i, v := range s {
		o[i] = uint32(v)
	}
	return o
}

func TestRoundTrip(t *testing.T) {
	fib := []uint32{} // Fibonacci counts force the longest optimal codes
	a, b := 1, 1
	for s := range 25 {
		for range a {
			fib = append(fib, uint32(s))
		}
		a, b = b, a+b
	}
	tests := []struct {
		name string
		syms []uint32
	}{
		{"empty", nil},
		{"one symbol", []uint32{7}},
		{"one zero", []uint32{0}},
		{"all equal", slices.Repeat([]uint32{3}, 1000)},
		{"all equal 4 streams", slices.Repeat([]uint32{0}, 10000)},
		{"largest symbol alone", []uint32{MaxSymbols - 1}},
		{"two symbols", []uint32{0, 1, 1, 0, 1}},
		{"uniform 256", randomSymbols(5000, 256, 1)},
		{"uniform 3 short", randomSymbols(9, 3, 2)},
		{"fibonacci", fib},
		{"bell 6 bit", widen(bellIndices(21296, 6, 5))},
		{"gaps 5 bit", widen(geometricGaps(21296, 5, 0.08, 6))},
		{"full 17-bit alphabet", append(randomSymbols(200000, MaxSymbols, 3), MaxSymbols-1)},
		{"sparse large alphabet", []uint32{5, 70000, 5, 131000, 5, 5}},
	}
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 100, 2047, 2048, 2049, 4095, 4096, 4097} {
		tests = append(tests, struct {
			name string
			syms []uint32
		}{fmt.Sprintf("n=%d", n), randomSymbols(n, 40, uint64(n))})
	}
	for _, tc := range tests {
		for _, streams := range []int{0, 1, 4} {
			t.Run(fmt.Sprintf("%s/streams=%d", tc.name, streams), func(t *testing.T) {
				roundTrip(t, tc.name, tc.syms, &Options{Streams: streams})
			})
		}
	}
}

func TestRoundTripSymbolTypes(t *testing.T) {
	bell := bellIndices(30000, 8, 9)
	roundTrip(t, "uint16", bell, nil)
	b8 := make([]uint8, len(bell))
	for i, v := range bell {
		b8[i] = uint8(v)
	}
	roundTrip(t, "uint8", b8, nil)
	roundTrip(t, "uint8 all values", []uint8{0, 255, 128, 255}, nil)
}

func TestRoundTripLengthLimits(t *testing.T) {
	// Fibonacci counts make the optimal code as deep as the alphabet, so
	// every limit is reached: this exercises all decoding paths (codes of
	// at most 12, 14 and 17 bits).
	var fib []uint32
	a, b := 1, 1
	for s := range 22 {
		for range a {
			fib = append(fib, uint32(s))
		}
		a, b = b, a+b
	}
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(fib), func(i, j int) { fib[i], fib[j] = fib[j], fib[i] })
	for l := 5; l <= MaxCodeLen; l++ {
		for _, streams := range []int{1, 4} {
			blk := roundTrip(t, fmt.Sprintf("fibonacci maxlen %d", l), fib, &Options{MaxLen: l, Streams: streams})
			if got := maxCodeLen(t, blk); got != l {
				t.Errorf("MaxLen %d: longest code %d bits, want the limit", l, got)
			}
		}
	}
	syms := widen(bellIndices(50000, 8, 11))
	for l := 8; l <= MaxCodeLen; l++ {
		for _, streams := range []int{1, 4} {
			blk := roundTrip(t, fmt.Sprintf("maxlen %d", l), syms, &Options{MaxLen: l, Streams: streams})
			if got := maxCodeLen(t, blk); got > l {
				t.Errorf("MaxLen %d: block uses %d-bit codes", l, got)
			}
		}
	}
}

// maxCodeLen reads back the longest code length of a block.
func maxCodeLen(t *testing.T, blk []byte) int {
	sc := new(scratch)
	_, k := uvarint(blk)
	tbits, _, _, err := sc.readTable(blk, k, MaxSymbols)
	if err != nil {
		t.Fatal(err)
	}
	return int(tbits)
}

// TestCodeLengthsOptimal compares package-merge against a textbook
// heap-built Huffman code: with a generous limit the costs must be equal,
// and with a tight limit the lengths must respect it and Kraft's equality.
func TestCodeLengthsOptimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 2 + r.IntN(300)
		counts := make([]uint64, n)
		for i := range counts {
			if r.IntN(4) > 0 {
				counts[i] = uint64(1 + r.IntN(1<<uint(r.IntN(20))))
			}
		}
		counts[0], counts[n-1] = 1, 2 // at least two symbols
		ref := heapHuffmanCost(counts)
		lengths, err := CodeLengths(counts, 40)
		if err != nil {
			t.Fatal(err)
		}
		if c := cost(counts, lengths); c != ref {
			t.Fatalf("trial %d: package-merge cost %d, Huffman cost %d", trial, c, ref)
		}
		used := 0
		for _, c := range counts {
			if c > 0 {
				used++
			}
		}
		limit := max(bitsFor(used), 1+r.IntN(12))
		lengths, err = CodeLengths(counts, limit)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkKraft(counts, lengths, limit); err != nil {
			t.Fatalf("trial %d limit %d: %v", trial, limit, err)
		}
		if c := cost(counts, lengths); c < ref {
			t.Fatalf("trial %d: limited cost %d below the optimum %d", trial, c, ref)
		}
	}
	if _, err := CodeLengths(make([]uint64, 5), 3); err != nil {
		t.Errorf("no symbols: %v", err)
	}
	if _, err := CodeLengths([]uint64{1, 1, 1, 1, 1}, 2); err == nil {
		t.Error("5 symbols in 2 bits: no error")
	}
}

// TestCodeLengthsExhaustive checks package-merge against brute force on
// tiny alphabets: the minimum cost over all length vectors within the limit
// that satisfy Kraft's inequality.
func TestCodeLengthsExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 2 + r.IntN(5)
		counts := make([]uint64, n)
		for i := range counts {
			counts[i] = uint64(1 + r.IntN(100))
		}
		limit := bitsFor(n) + r.IntN(3)
		best := bruteForce(counts, limit)
		lengths, err := CodeLengths(counts, limit)
		if err != nil {
			t.Fatal(err)
		}
		if c := cost(counts, lengths); c != best {
			t.Fatalf("trial %d counts %v limit %d: cost %d, brute force %d", trial, counts, limit, c, best)
		}
	}
}

func bitsFor(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}

func bruteForce(counts []uint64, limit int) uint64 {
	best := ^uint64(0)
	l := make([]int, len(counts))
	var rec func(i int, kraft float64)
	rec = func(i int, kraft float64) {
		if kraft > 1 {
			return
		}
		if i == len(l) {
			var c uint64
			for j, x := range l {
				c += counts[j] * uint64(x)
			}
			best = min(best, c)
			return
		}
		for x := 1; x <= limit; x++ {
			l[i] = x
			rec(i+1, kraft+1/float64(uint64(1)<<x))
		}
	}
	rec(0, 0)
	return best
}

func cost(counts []uint64, lengths []uint8) uint64 {
	var c uint64
	for i, n := range counts {
		c += n * uint64(lengths[i])
	}
	return c
}

func checkKraft(counts []uint64, lengths []uint8, limit int) error {
	var k uint64
	for i, l := range lengths {
		if (counts[i] > 0) != (l > 0) {
			return fmt.Errorf("symbol %d: count %d, length %d", i, counts[i], l)
		}
		if int(l) > limit {
			return fmt.Errorf("symbol %d: length %d over the limit %d", i, l, limit)
		}
		if l > 0 {
			k += 1 << (63 - l)
		}
	}
	if k != 1<<63 {
		return fmt.Errorf("Kraft sum %v, want 1", float64(k)/(1<<63))
	}
	return nil
}

type u64heap []uint64

func (h u64heap) Len() int           { return len(h) }
func (h u64heap) Less(i, j int) bool { return h[i] < h[j] }
func (h u64heap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *u64heap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *u64heap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// heapHuffmanCost is the cost sum count*length of an unlimited Huffman
// code: the sum of the weights of all internal nodes.
func heapHuffmanCost(counts []uint64) uint64 {
	h := &u64heap{}
	for _, c := range counts {
		if c > 0 {
			*h = append(*h, c)
		}
	}
	heap.Init(h)
	var total uint64
	for h.Len() > 1 {
		a, b := heap.Pop(h).(uint64), heap.Pop(h).(uint64)
		total += a + b
		heap.Push(h, a+b)
	}
	return total
}

// TestCanonicalGolden pins the bit layout: symbols 0,1,2 with counts
// 2,1,1 get codes 0, 10, 11 (MSB first), emitted LSB first.
func TestCanonicalGolden(t *testing.T) {
	blk, err := Encode(nil, []uint8{0, 1, 0, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// header n=4 one stream: 0x08; nsym 3; lengths 1,2,2 from p=0:
	// "1 0 0" (+1), "1 0 0" (+1), "0 1" (run of 1) -> bits 1,0,0,1,0,0,0,1
	// = 0b10001001 = 0x89; stream length 1; codewords 0, 10, 0, 11 in
	// stream order -> bits 0,1,0,0,1,1 = 0b110010 = 0x32.
	want := []byte{0x08, 0x03, 0x89, 0x01, 0x32}
	if !bytes.Equal(blk, want) {
		t.Fatalf("block % x, want % x", blk, want)
	}
}

func TestDecodeLimits(t *testing.T) {
	syms := widen(bellIndices(1000, 6, 1))
	blk, err := Encode(nil, syms, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Decode([]uint32(nil), blk, 999, 64); !errors.Is(err, ErrCorrupt) {
		t.Errorf("count over maxCount: %v", err)
	}
	if _, _, err := Decode([]uint32(nil), blk, 1000, 10); !errors.Is(err, ErrCorrupt) {
		t.Errorf("alphabet over limit: %v", err)
	}
	if _, _, err := Decode([]uint8(nil), []byte{0x02, 0x80, 0x80, 0x04}, 1, MaxSymbols); !errors.Is(err, ErrCorrupt) {
		t.Errorf("alphabet beyond uint8: %v", err)
	}
	// A header claiming 2^40 symbols in a few bytes.
	huge := appendUvarint(nil, 1<<41)
	huge = append(huge, 2, 0x89, 1, 0)
	if _, _, err := Decode([]uint32(nil), huge, 1<<50, 256); !errors.Is(err, ErrCorrupt) {
		t.Errorf("2^40 symbols: %v", err)
	}
}

// TestDecodeTruncated cuts a block at every length: each must fail
// cleanly, never return success with fewer bytes.
func TestDecodeTruncated(t *testing.T) {
	for _, streams := range []int{1, 4} {
		syms := widen(bellIndices(5000, 6, 2))
		blk, err := Encode(nil, syms, &Options{Streams: streams})
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(blk) {
			if _, _, err := Decode([]uint32(nil), blk[:n], len(syms), 64); err == nil {
				t.Fatalf("streams=%d: block cut to %d of %d bytes decoded", streams, n, len(blk))
			}
		}
	}
}

// TestDecodeBitFlips flips every bit of a block (every 7th with -short):
// decoding must not panic, whatever it accepts must obey the limits, and
// no flip may go unnoticed: each is rejected or decodes to other symbols,
// since the header is checked and the padding must be zero. (A prefix
// code cannot reject every flip; the container's CRC does.)
func TestDecodeBitFlips(t *testing.T) {
	syms := widen(bellIndices(3000, 6, 3))
	for _, streams := range []int{1, 4} {
		blk, err := Encode(nil, syms, &Options{Streams: streams})
		if err != nil {
			t.Fatal(err)
		}
		detected, flips := 0, 0
		step := 1
		if testing.Short() {
			step = 7 // every 7th bit: all byte positions, a seventh of the time
		}
		for i := 0; i < 8*len(blk); i += step {
			flips++
			bad := slices.Clone(blk)
			bad[i/8] ^= 1 << (i % 8)
			got, _, err := Decode([]uint32(nil), bad, len(syms), 64)
			if err != nil || !slices.Equal(got, syms) {
				detected++
			}
			for _, s := range got {
				if s >= 64 {
					t.Fatalf("flip %d: symbol %d outside the alphabet", i, s)
				}
			}
		}
		if detected != flips {
			t.Errorf("streams=%d: %d of %d flips went unnoticed (same symbols, no error)", streams, flips-detected, flips)
		}
	}
}
