package huffman

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

var updateSeeds = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// seedBlocks are valid blocks covering every decoding path: empty, one
// symbol, one and four streams, the two-symbol table, long codes.
func seedBlocks(tb testing.TB) map[string][]byte {
	enc := func(syms []uint32, o *Options) []byte {
		b, err := Encode(nil, syms, o)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	return map[string][]byte{
		"empty":         enc(nil, nil),
		"one_symbol":    enc([]uint32{5, 5, 5}, nil),
		"small":         enc([]uint32{0, 1, 0, 2, 7, 7, 1}, nil),
		"bell_1stream":  enc(widen(bellIndices(3000, 6, 1)), &Options{Streams: 1}),
		"bell_4streams": enc(widen(bellIndices(5000, 6, 2)), nil),
		"gaps_4streams": enc(widen(geometricGaps(5000, 5, 0.08, 3)), nil),
		"long_codes":    enc(widen(bellIndices(3000, 10, 4)), &Options{MaxLen: 17}),
		"13_bit_codes":  enc(widen(bellIndices(6000, 10, 5)), &Options{MaxLen: 13}),
	}
}

// TestWriteSeeds checks that testdata/fuzz holds the seed corpus as the
// encoder writes it today, and rewrites it with -update.
func TestWriteSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if *updateSeeds {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range seedBlocks(t) {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		path := filepath.Join(dir, name)
		if !*updateSeeds {
			if old, err := os.ReadFile(path); err != nil || string(old) != data {
				t.Errorf("%s is not the seed the encoder writes now (%v); rewrite the corpus with go test -run TestWriteSeeds -update", path, err)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecode feeds arbitrary blocks to Decode: it must not panic, must
// respect its limits, and what it accepts must survive a round trip.
func FuzzDecode(f *testing.F) {
	for _, b := range seedBlocks(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, blk []byte) {
		const maxCount, alphabet = 1 << 16, 4096
		syms, n, err := Decode([]uint32(nil), blk, maxCount, alphabet)
		if err != nil {
			return
		}
		if n > len(blk) || len(syms) > maxCount {
			t.Fatalf("used %d of %d bytes, %d symbols", n, len(blk), len(syms))
		}
		for _, s := range syms {
			if s >= alphabet {
				t.Fatalf("symbol %d outside the alphabet", s)
			}
		}
		s8, n8, err8 := Decode([]uint8(nil), blk, maxCount, 256)
		if err8 == nil && (n8 != n || len(s8) != len(syms)) {
			t.Fatalf("uint8 decoding disagrees")
		}
		again, err := Encode(nil, syms, nil)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := Decode([]uint32(nil), again, maxCount, alphabet)
		if err != nil || !slices.Equal(back, syms) && len(back)+len(syms) > 0 {
			t.Fatalf("round trip of decoded symbols: %v", err)
		}
	})
}

// FuzzRoundTrip encodes arbitrary symbol sequences.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Add([]byte{1, 2, 3, 3, 3}, uint8(1), uint8(12))
	f.Fuzz(func(t *testing.T, data []byte, streams, maxLen uint8) {
		syms := make([]uint16, len(data)/2)
		for i := range syms {
			syms[i] = uint16(data[2*i]) | uint16(data[2*i+1]&1)<<8
		}
		o := &Options{Streams: []int{0, 1, 4}[streams%3], MaxLen: 9 + int(maxLen%9)}
		blk, err := Encode(nil, syms, o)
		if err != nil {
			t.Fatal(err)
		}
		back, n, err := Decode([]uint16(nil), blk, len(syms), 512)
		if err != nil || n != len(blk) || !slices.Equal(back, syms) && len(back)+len(syms) > 0 {
			t.Fatalf("round trip: %v", err)
		}
	})
}
