package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/gemm"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
)

// A benchmark layer: a pruned, shared weight and, built on demand, its
// dense float32 form.
type benchLayer struct {
	name       string
	rows, cols int
	once       sync.Once
	shared     *quantize.Layer
	make       func() *quantize.Layer
}

func (l *benchLayer) layer() *quantize.Layer {
	l.once.Do(func() { l.shared = l.make() })
	return l.shared
}

// syntheticLayer is a rows x cols weight keeping each position with
// probability keep (geometric gaps) and a 2^bits-entry codebook.
func syntheticLayer(rows, cols int, keep float64, bits int, seed uint64) *quantize.Layer {
	rng := rand.New(rand.NewPCG(seed, 11))
	l := &quantize.Layer{Name: "w", Shape: []int{rows, cols}, Bits: bits, Codebook: make([]float32, 1<<bits)}
	for i := range l.Codebook {
		l.Codebook[i] = float32(i-len(l.Codebook)/2) / 256
	}
	est := int(float64(rows*cols)*keep*1.01) + 16
	l.Pos, l.Idx = make([]uint32, 0, est), make([]uint16, 0, est)
	logq := math.Log1p(-keep)
	for p := -1; ; {
		p += 1 + int(math.Log(1-rng.Float64())/logq)
		if p >= rows*cols {
			break
		}
		l.Pos = append(l.Pos, uint32(p))
		l.Idx = append(l.Idx, uint16(rng.IntN(len(l.Codebook))))
	}
	return l
}

var benchLayers = []*benchLayer{
	{name: "lenet300-fc1", rows: 300, cols: 784, make: func() *quantize.Layer {
		// The trained fc1 pruned to 8% with 6-bit sharing when the model
		// is here; otherwise a random layer of the same shape and density.
		if m, _, err := loadLenet300(); err == nil {
			return &m.Layers[0].Layer
		}
		return syntheticLayer(300, 784, 0.08, 6, 1)
	}},
	// VGG-16 fc6 as in the paper: 4% of the weights kept, 5-bit sharing.
	{name: "vgg16-fc6", rows: 4096, cols: 25088, make: func() *quantize.Layer {
		return syntheticLayer(4096, 25088, 0.04, 5, 2)
	}},
}

// BenchmarkLayer is acceptance criterion 2: a fully connected layer as a
// sparse product from the codebook (sparse-shared) against the dense
// float32 product of the same layer, by GEMM (dense-sgemm, package gemm)
// and by a plain loop split across the cores (dense-loop), at batch 1, 8
// and 64. SetBytes is the dense weight size, so MB/s compare directly.
//
//	go test ./infer -run '^$' -bench 'Layer' -benchtime 2s
func BenchmarkLayer(b *testing.B) {
	b.Logf("kernels %s, gemm %s, GOMAXPROCS %d", kernelName(), gemm.Kernel(), runtime.GOMAXPROCS(0))
	for _, bl := range benchLayers {
		var dense []float32
		for _, n := range []int{1, 8, 64} {
			rng := rand.New(rand.NewPCG(uint64(n), 3))
			x := randomVec(rng, n*bl.cols) // feature-major for the sparse kernel, sample-major for the dense ones: both random
			y := make([]float32, n*bl.rows)
			bias := make([]float32, bl.rows)
			b.Run(fmt.Sprintf("%s/batch=%d/sparse-shared", bl.name, n), func(b *testing.B) {
				m, err := newSharedMatrix(bl.layer(), bl.rows, bl.cols)
				if err != nil {
					b.Fatal(err)
				}
				p := product{w: m, x: x, ldx: n, lanes: n, b: bias, y: y, ldy: n}
				var s rowSplit
				b.ReportMetric(float64(m.bytes()), "weight-bytes")
				timed(b, 4*bl.rows*bl.cols, func() { runProduct(&p, &s) })
			})
			if dense == nil {
				dense = bl.layer().Dense()
			}
			b.Run(fmt.Sprintf("%s/batch=%d/dense-sgemm", bl.name, n), func(b *testing.B) {
				timed(b, 4*bl.rows*bl.cols, func() {
					// Y[n, rows] = X[n, cols] * W^T, as package nn runs a layer.
					gemm.Sgemm(false, true, n, bl.rows, bl.cols, 1, x, bl.cols, dense, bl.cols, 0, y, bl.rows)
				})
			})
			if bl.rows*bl.cols*n > 1<<30 {
				continue // the loop streams W once per sample: seconds per operation, and far behind the GEMM
			}
			b.Run(fmt.Sprintf("%s/batch=%d/dense-loop", bl.name, n), func(b *testing.B) {
				timed(b, 4*bl.rows*bl.cols, func() { denseLoop(dense, bl.rows, bl.cols, x, n, y) })
			})
		}
	}
}

// timed runs f b.N times and reports CPU time per operation besides wall
// time.
func timed(b *testing.B, bytes int, f func()) {
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	f()
	b.ResetTimer()
	t0 := cpuTime()
	for range b.N {
		f()
	}
	if d := cpuTime() - t0; d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// denseLoop computes Y[s, r] = W[r, :] . X[s, :] for n samples with eight
// accumulators per dot product, rows split across GOMAXPROCS goroutines
// when the layer is large.
func denseLoop(w []float32, rows, cols int, x []float32, n int, y []float32) {
	parts := max(1, min(runtime.GOMAXPROCS(0), rows*cols*n/(1<<20)))
	var wg sync.WaitGroup
	for p := range parts {
		r0, r1 := rows*p/parts, rows*(p+1)/parts
		part := func() {
			for s := range n {
				xs := x[s*cols : (s+1)*cols]
				for r := r0; r < r1; r++ {
					y[s*rows+r] = dot(w[r*cols:(r+1)*cols], xs)
				}
			}
		}
		if p == parts-1 {
			part()
		} else {
			wg.Add(1)
			go func() { defer wg.Done(); part() }()
		}
	}
	wg.Wait()
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
		s4 += a[i+4] * b[i+4]
		s5 += a[i+5] * b[i+5]
		s6 += a[i+6] * b[i+6]
		s7 += a[i+7] * b[i+7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// BenchmarkModel runs whole networks: the compressed engine against the
// dense engine (package nn) on the decoded weights. LeNet-5 runs its
// convolutions both ways, from the codebook (conv=sparse) and decoded once
// to dense float32 for im2col and GEMM (conv=decoded), at the paper's
// densities (conv 66% and 12%, fc 8% and 19%).
func BenchmarkModel(b *testing.B) {
	type variant struct {
		name   string
		spec   arch.Spec
		keep   float64
		decode bool
	}
	for _, v := range []variant{
		{"lenet300", arch.LeNet300(), 0.08, false},
		{"lenet5/conv=sparse", arch.LeNet5(), 0, false},
		{"lenet5/conv=decoded", arch.LeNet5(), 0, true},
	} {
		dm := randomCompressed(b, v.spec, 1, v.keep, 6)
		if v.keep == 0 {
			dm = lenet5PaperDensities(b)
		}
		saved := decodeAll
		decodeAll = v.decode
		m, err := FromDCZ(dm)
		decodeAll = saved
		if err != nil {
			b.Fatal(err)
		}
		ref := reference(b, dm)
		for _, n := range []int{1, 8, 64} {
			x := randomInputs(uint64(n), n*m.InputSize())
			out := make([]float32, n*m.OutputSize())
			b.Run(fmt.Sprintf("%s/batch=%d/compressed", v.name, n), func(b *testing.B) {
				timed(b, 4*len(x), func() { m.PredictBatch(x, n, out) })
			})
			if v.decode {
				continue
			}
			b.Run(fmt.Sprintf("%s/batch=%d/dense-nn", v.name, n), func(b *testing.B) {
				timed(b, 4*len(x), func() { ref.Forward(x, n, false) })
			})
		}
	}
}

// lenet5PaperDensities is a random LeNet-5 pruned as in the paper's
// table 2 (conv1 66%, conv2 12%, fc1 8%, fc2 19% kept), 8-bit conv and
// 5-bit fc codebooks.
func lenet5PaperDensities(tb testing.TB) *dcz.Model {
	keep := map[string]float64{"conv1.weight": 0.66, "conv2.weight": 0.12, "fc1.weight": 0.08, "fc2.weight": 0.19}
	ref, err := nn.New(arch.LeNet5(), 5)
	if err != nil {
		tb.Fatal(err)
	}
	m := &dcz.Model{Spec: arch.LeNet5()}
	for _, p := range ref.Params() {
		if !p.Weight {
			m.Raw = append(m.Raw, dcz.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
			continue
		}
		data := append([]float32(nil), p.Data...)
		pruneTop(data, keep[p.Name])
		bits := 5
		if len(p.Shape) == 4 {
			bits = 8
		}
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, data, quantize.Options{Bits: bits})
		if err != nil {
			tb.Fatal(err)
		}
		m.Layers = append(m.Layers, dcz.Layer{Layer: *l})
	}
	return m
}

// BenchmarkConv measures the product of a convolution on its unfolded
// input both ways: from the codebook (sparse-shared) and decoded to dense
// float32 with GEMM (decoded-sgemm), for the LeNet-5 layers at the paper's
// densities and a VGG-16 conv4_2-sized layer across densities. It is the
// measurement behind decodeConv.
func BenchmarkConv(b *testing.B) {
	cases := []struct {
		name         string
		rows, k, pix int
		keep         float64
		batches      []int
	}{
		{"lenet5-conv1", 20, 25, 576, 0.66, []int{1, 8, 64}},
		{"lenet5-conv2", 50, 500, 64, 0.12, []int{1, 8, 64}},
		{"vgg16-conv4_2/keep=0.15", 512, 4608, 784, 0.15, []int{1}},
		{"vgg16-conv4_2/keep=0.27", 512, 4608, 784, 0.27, []int{1}},
		{"vgg16-conv4_2/keep=0.50", 512, 4608, 784, 0.50, []int{1}},
		{"vgg16-conv4_2/keep=0.80", 512, 4608, 784, 0.80, []int{1}},
	}
	for _, c := range cases {
		l := syntheticLayer(c.rows, c.k, c.keep, 8, 4)
		m, err := newSharedMatrix(l, c.rows, c.k)
		if err != nil {
			b.Fatal(err)
		}
		w := l.Dense()
		bias := make([]float32, c.rows)
		for _, n := range c.batches {
			lanes := c.pix * n
			x := randomInputs(1, c.k*lanes)
			y := make([]float32, c.rows*lanes)
			b.Run(fmt.Sprintf("%s/batch=%d/sparse-shared", c.name, n), func(b *testing.B) {
				p := product{w: m, x: x, ldx: lanes, lanes: lanes, b: bias, y: y, ldy: lanes}
				var s rowSplit
				timed(b, 4*len(w), func() { runProduct(&p, &s) })
			})
			b.Run(fmt.Sprintf("%s/batch=%d/decoded-sgemm", c.name, n), func(b *testing.B) {
				timed(b, 4*len(w), func() { denseProduct(w, c.rows, c.k, x, lanes, bias, y, false) })
			})
		}
	}
}
