package infer

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/gemm"
	"github.com/deepcompress/deepcompress/quantize"
)

// Model is a compressed network ready to run. It is safe for concurrent
// use: each call takes its working buffers from a pool, so calls on one
// goroutine allocate nothing once the pool holds buffers of their size.
type Model struct {
	spec    arch.Spec
	stages  []stage
	inSize  int
	outSize int
	maxAct  int // floats per sample of the largest activation
	maxCols int // floats per sample of the largest unfolded conv input
	chunk   int // samples per pass through the network
	scratch sync.Pool
}

// InputSizeError reports input of the wrong size.
type InputSizeError struct {
	Got, Want int // values given; values expected (samples times InputSize)
	Samples   int
}

func (e *InputSizeError) Error() string {
	if e.Samples == 1 {
		return fmt.Sprintf("infer: input has %d values, the network takes %d", e.Got, e.Want)
	}
	return fmt.Sprintf("infer: input has %d values, %d samples need %d", e.Got, e.Samples, e.Want)
}

// Load reads a .dcz file from r and builds the model. Each pruned,
// weight-shared tensor is converted to the in-memory form as soon as it is
// decoded, so the positions and indices of the file are never all held at
// once.
func Load(r io.Reader) (*Model, error) {
	d, err := dcz.NewDecoder(r)
	if err != nil {
		return nil, err
	}
	b, err := newBuilder(d.Spec())
	if err != nil {
		return nil, err
	}
	for {
		s, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if s.Layer != nil {
			err = b.addShared(&s.Layer.Layer)
		} else {
			err = b.addRaw(s.Raw.Name, s.Raw.Shape, s.Raw.Data)
		}
		if err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// LoadFile reads the .dcz file at path and builds the model.
func LoadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	defer f.Close()
	m, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// FromDCZ builds the model from a decoded .dcz file.
func FromDCZ(f *dcz.Model) (*Model, error) {
	raw := make(map[string][]float32, len(f.Raw))
	for _, t := range f.Raw {
		if _, dup := raw[t.Name]; dup {
			return nil, fmt.Errorf("infer: parameter %s given twice", t.Name)
		}
		raw[t.Name] = t.Data
	}
	layers := make([]*quantize.Layer, len(f.Layers))
	for i := range f.Layers {
		layers[i] = &f.Layers[i].Layer
	}
	return New(f.Spec, layers, raw)
}

// New builds the model of spec from its parameters: each weight either
// pruned and weight-shared (in layers) or plain row-major float32 (in
// raw), each bias in raw. Every parameter of spec must be given once.
// The model keeps none of the given slices.
func New(spec arch.Spec, layers []*quantize.Layer, raw map[string][]float32) (*Model, error) {
	b, err := newBuilder(spec)
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		if err := b.addShared(l); err != nil {
			return nil, err
		}
	}
	for name, data := range raw {
		info, ok := b.params[name]
		if !ok {
			return nil, fmt.Errorf("infer: parameter %s is not in network %q", name, spec.Name)
		}
		if err := b.addRaw(name, info.Shape, data); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// heldBytes counts the bytes of the arrays the model holds: its weights
// in kernel form, dense weights and biases.
func (m *Model) heldBytes() int {
	n := 0
	for _, st := range m.stages {
		if st.w != nil {
			n += st.w.bytes()
		}
		n += 4 * (len(st.wd) + len(st.b))
	}
	return n
}

// Spec returns the network description.
func (m *Model) Spec() arch.Spec { return m.spec }

// InputSize is the number of values of one input sample (1*28*28 for the
// MNIST networks), laid out as the Spec's input shape, row-major.
func (m *Model) InputSize() int { return m.inSize }

// OutputSize is the number of values the network outputs per sample.
func (m *Model) OutputSize() int { return m.outSize }

// Predict runs the network on one sample and returns its output: the
// logits, or the probabilities when the network ends in a softmax.
func (m *Model) Predict(x []float32) ([]float32, error) {
	if len(x) != m.inSize {
		return nil, &InputSizeError{Got: len(x), Want: m.inSize, Samples: 1}
	}
	out := make([]float32, m.outSize)
	m.run(x, 1, out)
	return out, nil
}

// PredictBatch runs the network on n samples stored back to back in x
// (n*InputSize values) and writes their outputs back to back to out
// (n*OutputSize values). Large products are split across GOMAXPROCS
// goroutines. It allocates nothing once the model has run batches of this
// size.
func (m *Model) PredictBatch(x []float32, n int, out []float32) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("infer: sample count %d outside 0..2^31-1", n)
	}
	if len(x) != n*m.inSize {
		return &InputSizeError{Got: len(x), Want: n * m.inSize, Samples: n}
	}
	if len(out) != n*m.outSize {
		return fmt.Errorf("infer: output buffer has %d values, %d samples need %d", len(out), n, n*m.outSize)
	}
	m.run(x, n, out)
	return nil
}

// run computes the outputs of n samples, chunk samples at a time.
func (m *Model) run(x []float32, n int, out []float32) {
	s := m.getScratch(min(n, m.chunk))
	for i := 0; i < n; i += m.chunk {
		k := min(m.chunk, n-i)
		m.forward(s, x[i*m.inSize:(i+k)*m.inSize], k, out[i*m.outSize:(i+k)*m.outSize])
	}
	s.prod = product{} // hold no reference to the caller's data
	m.scratch.Put(s)
}

// forward runs n samples through the stages. Activations are stored
// feature-major, [features][n] ([C][H][W][n] for images), so that a dense
// layer is one sparse product whose lanes are the samples and a
// convolution one whose lanes are the samples' output pixels.
func (m *Model) forward(s *scratch, x []float32, n int, out []float32) {
	cur := x
	if n > 1 {
		cur = s.in[:len(x)]
		transpose(cur, x, n, m.inSize)
	}
	bufs := [2][]float32{s.a, s.b}
	for i := range m.stages {
		st := &m.stages[i]
		next := bufs[i%2][:st.outSize*n]
		st.forward(s, cur, next, n)
		cur = next
	}
	if n == 1 {
		copy(out, cur)
	} else {
		transpose(out, cur, m.outSize, n)
	}
}

// transpose writes the cols x rows transpose of src (rows x cols) to dst.
// It takes eight source rows at a time, so that every column of them
// becomes one contiguous run of eight in dst.
func transpose(dst, src []float32, rows, cols int) {
	r := 0
	for ; r+8 <= rows; r += 8 {
		s0 := src[r*cols : (r+1)*cols]
		s1 := src[(r+1)*cols : (r+2)*cols][:len(s0)]
		s2 := src[(r+2)*cols : (r+3)*cols][:len(s0)]
		s3 := src[(r+3)*cols : (r+4)*cols][:len(s0)]
		s4 := src[(r+4)*cols : (r+5)*cols][:len(s0)]
		s5 := src[(r+5)*cols : (r+6)*cols][:len(s0)]
		s6 := src[(r+6)*cols : (r+7)*cols][:len(s0)]
		s7 := src[(r+7)*cols : (r+8)*cols][:len(s0)]
		for c := range s0 {
			d := dst[c*rows+r : c*rows+r+8 : c*rows+r+8]
			d[0], d[1], d[2], d[3] = s0[c], s1[c], s2[c], s3[c]
			d[4], d[5], d[6], d[7] = s4[c], s5[c], s6[c], s7[c]
		}
	}
	for ; r < rows; r++ {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

// scratch is one call's working memory.
type scratch struct {
	chunk    int
	in, a, b []float32
	cols     []float32
	prod     product
	split    rowSplit
}

func (m *Model) getScratch(chunk int) *scratch {
	s, _ := m.scratch.Get().(*scratch)
	if s == nil {
		s = new(scratch)
	}
	if s.chunk < chunk {
		s.chunk = chunk
		s.in = make([]float32, chunk*m.inSize)
		s.a = make([]float32, chunk*m.maxAct)
		s.b = make([]float32, chunk*m.maxAct)
		s.cols = make([]float32, chunk*m.maxCols)
	}
	return s
}

// maxChunk is the most samples a pass takes: 128 lanes fill the widest
// assembly kernel. scratchBudget bounds the floats of a pass's buffers.
const (
	maxChunk      = 128
	scratchBudget = 8 << 20
)

// Softmax writes exp(x_i - max x) / sum_j exp(x_j - max x) into p, which
// must be as long as x. It turns logits into probabilities.
func Softmax(p, x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - mx))
		p[i] = float32(e)
		sum += e
	}
	for i := range p[:len(x)] {
		p[i] = float32(float64(p[i]) / sum)
	}
}

// Argmax is the index of the largest value, the first on ties; -1 for an
// empty slice.
func Argmax(x []float32) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// denseProduct computes Y [rows, lanes] = b + W*X (+ ReLU) with a dense
// weight W [rows, k] and X [k, lanes], all row-major.
func denseProduct(w []float32, rows, k int, x []float32, lanes int, b, y []float32, relu bool) {
	gemm.Sgemm(false, false, rows, lanes, k, 1, w, k, x, lanes, 0, y, lanes)
	for r := range rows {
		row := y[r*lanes : (r+1)*lanes]
		bias := b[r]
		for l, v := range row {
			v += bias
			if relu {
				v = max(v, 0)
			}
			row[l] = v
		}
	}
}
