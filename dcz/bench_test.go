package dcz

import (
	"bytes"
	"io"
	"testing"
)

// Throughput of whole files, in bytes of the dense model per second.

func BenchmarkWriteLeNet300(b *testing.B) {
	m := lenet300(b, false)
	b.SetBytes(4 * 266610)
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadLeNet300(b *testing.B) {
	data := encode(b, lenet300(b, false))
	b.SetBytes(4 * 266610)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDenseWeightsLeNet300(b *testing.B) {
	m, err := Read(bytes.NewReader(encode(b, lenet300(b, false))))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4 * 266610)
	b.ReportAllocs()
	for b.Loop() {
		m.DenseWeights()
	}
}

// BenchmarkCoders writes and reads LeNet-300-100 (the trained weights,
// pruned by magnitude as in Table 2) with each coder.
func BenchmarkCoders(b *testing.B) {
	for _, c := range []Coder{CoderHuffman, CoderArith, CoderAuto} {
		m := arithModel(lenet300(b, true), c)
		data := encode(b, m)
		b.Run("write/"+c.String(), func(b *testing.B) {
			b.SetBytes(4 * 266610)
			for b.Loop() {
				if err := Write(io.Discard, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("read/"+c.String(), func(b *testing.B) {
			b.SetBytes(4 * 266610)
			for b.Loop() {
				if _, err := Read(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
