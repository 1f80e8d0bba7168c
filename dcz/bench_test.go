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
