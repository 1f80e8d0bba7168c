package infer

import (
	"fmt"
	"slices"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/quantize"
)

// builder collects the parameters of a network, in any order, and
// compiles the stages once all are there.
type builder struct {
	spec   arch.Spec
	shapes [][]int
	params map[string]arch.ParamInfo
	shared map[string]*sharedMatrix // pruned, shared weights kept compressed
	dense  map[string][]float32     // raw tensors and decoded weights
}

func newBuilder(spec arch.Spec) (*builder, error) {
	shapes, err := spec.Shapes()
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	// The weights once, and one sample's activations and unfolded conv
	// input: refused before anything is allocated when over the budget.
	if err := spec.CheckBudget(nil, 1, 1); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	ps, err := spec.Params()
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	b := &builder{spec: spec, shapes: shapes, params: make(map[string]arch.ParamInfo, len(ps)),
		shared: map[string]*sharedMatrix{}, dense: map[string][]float32{}}
	for _, p := range ps {
		b.params[p.Name] = p
	}
	return b, nil
}

// param checks that name is a parameter of the network given once, with
// the network's shape.
func (b *builder) param(name string, shape []int) (arch.ParamInfo, error) {
	info, ok := b.params[name]
	if !ok {
		return info, fmt.Errorf("infer: parameter %s is not in network %q", name, b.spec.Name)
	}
	if !slices.Equal(shape, info.Shape) {
		return info, fmt.Errorf("infer: parameter %s has shape %s, the network wants %s", name, budget.Shape(shape), budget.Shape(info.Shape))
	}
	if b.shared[name] != nil || b.dense[name] != nil {
		return info, fmt.Errorf("infer: parameter %s given twice", name)
	}
	return info, nil
}

// addShared adds a pruned, weight-shared weight.
func (b *builder) addShared(l *quantize.Layer) error {
	info, err := b.param(l.Name, l.Shape)
	if err != nil {
		return err
	}
	if !info.Weight {
		return fmt.Errorf("infer: parameter %s is a bias, not a shareable weight", l.Name)
	}
	if err := l.Validate(); err != nil {
		return fmt.Errorf("infer: %w", err)
	}
	rows := info.Shape[0]
	cols := info.Size() / rows
	if b.spec.Layers[info.Layer].Kind == arch.Conv2D && decodeConv(l, b.shapes[info.Layer]) {
		b.dense[l.Name] = l.Dense()
		return nil
	}
	m, err := newSharedMatrix(l, rows, cols)
	if err != nil {
		return err
	}
	b.shared[l.Name] = m
	return nil
}

// addRaw adds a plain float32 tensor (a bias, or a weight left unshared).
// The values are copied.
func (b *builder) addRaw(name string, shape []int, data []float32) error {
	info, err := b.param(name, shape)
	if err != nil {
		return err
	}
	if len(data) != info.Size() {
		return fmt.Errorf("infer: parameter %s has %d values, shape %s needs %d", name, len(data), budget.Shape(info.Shape), info.Size())
	}
	b.dense[name] = slices.Clone(data)
	return nil
}

// finish compiles the stages.
func (b *builder) finish() (*Model, error) {
	for name := range b.params {
		if b.shared[name] == nil && b.dense[name] == nil {
			return nil, fmt.Errorf("infer: parameter %s missing", name)
		}
	}
	m := &Model{spec: b.spec, inSize: arch.Numel(b.spec.Input)}
	in := b.spec.Input
	m.maxAct = 1
	for i, l := range b.spec.Layers {
		out := b.shapes[i]
		st := stage{name: l.Name, inSize: arch.Numel(in), outSize: arch.Numel(out)}
		switch l.Kind {
		case arch.Flatten, arch.Dropout:
			in = out
			continue
		case arch.ReLU:
			if n := len(m.stages); n > 0 && (m.stages[n-1].kind == stageDense || m.stages[n-1].kind == stageConv) && !m.stages[n-1].relu {
				m.stages[n-1].relu = true
				in = out
				continue
			}
			st.kind = stageReLU
		case arch.Softmax:
			st.kind = stageSoftmax
		case arch.MaxPool, arch.AvgPool:
			st.kind = stageAvgPool
			if l.Kind == arch.MaxPool {
				st.kind = stageMaxPool
			}
			st.g = newGeom(l, in, out)
		case arch.Dense, arch.Conv2D:
			st.kind = stageDense
			st.rows, st.k = l.Out, st.inSize
			if l.Kind == arch.Conv2D {
				st.kind = stageConv
				st.g = newGeom(l, in, out)
				st.k = st.g.c * st.g.kh * st.g.kw
				m.maxCols = max(m.maxCols, st.k*st.g.pixels())
			}
			st.w, st.wd = b.shared[l.Name+".weight"], b.dense[l.Name+".weight"]
			st.b = b.dense[l.Name+".bias"]
			if l.NoBias {
				st.b = make([]float32, st.rows)
			}
		default:
			return nil, fmt.Errorf("infer: layer %d: unsupported kind %q", i, l.Kind)
		}
		m.stages = append(m.stages, st)
		m.maxAct = max(m.maxAct, st.outSize)
		in = out
	}
	m.outSize = arch.Numel(in)
	perSample := m.inSize + 2*m.maxAct + m.maxCols
	m.chunk = max(1, min(maxChunk, scratchBudget/perSample))
	return m, nil
}

// decodeConv reports whether a convolution weight, with output shape out
// [outC, oh, ow], runs decoded to dense float32 (im2col and GEMM) rather
// than from the codebook.
//
// The sparse product spends about 4.7 times as long per multiply-add as
// the GEMM on large layers (BenchmarkConv, VGG-16 conv4_2 shape: 512 x
// 4608 weights, 784 output pixels, AMD Zen 4): every survivor reloads its
// row of the unfolded input, where the GEMM reuses register tiles. So a
// large convolution runs decoded when more than decodeDensity of its
// weights survive. Small ones (LeNet-5's, under decodeMinMACs
// multiply-adds per sample) stay sparse at any density: there the GEMM's
// packing dominates and the sparse product was 3 to 5 times faster at
// batch 1, 8 and 64 even for conv1 at 66%.
func decodeConv(l *quantize.Layer, out []int) bool {
	if decodeAll {
		return true
	}
	macs := float64(arch.Numel(l.Shape)) * float64(out[1]*out[2])
	density := float64(len(l.Pos)) / float64(arch.Numel(l.Shape))
	return macs >= decodeMinMACs && density > decodeDensity
}

const (
	decodeDensity = 0.2
	decodeMinMACs = 1 << 22
)

// decodeAll makes every convolution run decoded; benchmarks set it.
var decodeAll = false
