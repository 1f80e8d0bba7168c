package huffman

import (
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/huff0"
)

type benchStream struct {
	name string
	syms []uint8
}

func benchStreams() []benchStream {
	to8 := func(s []uint16) []uint8 {
		o := make([]uint8, len(s))
		for i, v := range s {
			o[i] = uint8(v)
		}
		return o
	}
	return []benchStream{
		{"idx6_21K", to8(bellIndices(21296, 6, 1))},
		{"gap5_21K", to8(geometricGaps(21296, 5, 0.08, 2))},
		{"idx6_1M", to8(bellIndices(1<<20, 6, 3))},
		{"gap5_1M", to8(geometricGaps(1<<20, 5, 0.08, 4))},
	}
}

// huff0 blocks hold at most huff0.BlockSizeMax symbols; longer streams are
// coded as consecutive blocks, as zstd does.
const huff0Block = 128 << 10

func huff0Encode(tb testing.TB, syms []uint8, four bool) [][]byte {
	var out [][]byte
	for i := 0; i < len(syms); i += huff0Block {
		var s huff0.Scratch
		in := syms[i:min(i+huff0Block, len(syms))]
		var b []byte
		var err error
		if four {
			b, _, err = huff0.Compress4X(in, &s)
		} else {
			b, _, err = huff0.Compress1X(in, &s)
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, append([]byte(nil), b...))
	}
	return out
}

// cpuMBs reports MB per CPU second over the timed loop; call it with the
// CPU time taken before the loop.
func cpuMBs(b *testing.B, start time.Duration, bytes int) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d.Seconds()/1e6, "cpuMB/s")
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, st := range benchStreams() {
		b.Run("dcz/"+st.name, func(b *testing.B) {
			b.SetBytes(int64(len(st.syms)))
			b.ReportAllocs()
			var out []byte
			t0 := cpuTime()
			for b.Loop() {
				out, _ = Encode(out[:0], st.syms, nil)
			}
			cpuMBs(b, t0, len(st.syms))
			b.ReportMetric(float64(len(out)), "bytes")
		})
		for _, four := range []bool{false, true} {
			b.Run(fmt.Sprintf("huff0_%dX/%s", map[bool]int{false: 1, true: 4}[four], st.name), func(b *testing.B) {
				b.SetBytes(int64(len(st.syms)))
				b.ReportAllocs()
				var s huff0.Scratch
				size := 0
				t0 := cpuTime()
				for b.Loop() {
					size = 0
					for i := 0; i < len(st.syms); i += huff0Block {
						in := st.syms[i:min(i+huff0Block, len(st.syms))]
						var out []byte
						if four {
							out, _, _ = huff0.Compress4X(in, &s)
						} else {
							out, _, _ = huff0.Compress1X(in, &s)
						}
						size += len(out)
					}
				}
				cpuMBs(b, t0, len(st.syms))
				b.ReportMetric(float64(size), "bytes")
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, st := range benchStreams() {
		for _, streams := range []int{1, 4} {
			b.Run(fmt.Sprintf("dcz_%dX/%s", streams, st.name), func(b *testing.B) {
				blk, err := Encode(nil, st.syms, &Options{Streams: streams})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(st.syms)))
				b.ReportAllocs()
				dst := make([]uint8, len(st.syms))
				t0 := cpuTime()
				for b.Loop() {
					if dst, _, err = Decode(dst, blk, len(st.syms), 256); err != nil {
						b.Fatal(err)
					}
				}
				cpuMBs(b, t0, len(st.syms))
			})
		}
		// The symbol widths dcz decodes into: uint16 indices, uint32 gaps.
		b.Run("dcz_4X_uint16/"+st.name, func(b *testing.B) { benchDecodeWide[uint16](b, st.syms) })
		b.Run("dcz_4X_uint32/"+st.name, func(b *testing.B) { benchDecodeWide[uint32](b, st.syms) })
		for _, four := range []bool{false, true} {
			b.Run(fmt.Sprintf("huff0_%dX/%s", map[bool]int{false: 1, true: 4}[four], st.name), func(b *testing.B) {
				blocks := huff0Encode(b, st.syms, four)
				b.SetBytes(int64(len(st.syms)))
				b.ReportAllocs()
				var s huff0.Scratch
				dst := make([]byte, huff0Block)
				t0 := cpuTime()
				for b.Loop() {
					for k, blk := range blocks {
						s2, rem, err := huff0.ReadTable(blk, &s)
						if err != nil {
							b.Fatal(err)
						}
						d := s2.Decoder()
						size := min(huff0Block, len(st.syms)-k*huff0Block)
						if four {
							_, err = d.Decompress4X(dst[:size:size], rem)
						} else {
							_, err = d.Decompress1X(dst[:0:size], rem)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				cpuMBs(b, t0, len(st.syms))
			})
		}
	}
}

func benchDecodeWide[S Symbol](b *testing.B, syms []uint8) {
	blk, err := Encode(nil, syms, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(syms)))
	b.ReportAllocs()
	dst := make([]S, len(syms))
	t0 := cpuTime()
	for b.Loop() {
		if dst, _, err = Decode(dst, blk, len(syms), 256); err != nil {
			b.Fatal(err)
		}
	}
	cpuMBs(b, t0, len(syms))
}
