package datafree

import (
	"math"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/quantize"
)

// Int8Baseline is plain per-tensor int8 quantization, the baseline
// data-free compression is measured against: every weight tensor of g
// (g.Weights(), whatever its size) is quantized symmetrically and linearly
// to 8 bits, q = round(w/s) in -127..127 with s = max|w|/127, one scale per
// tensor, nothing pruned and nothing entropy coded. It returns a copy of g
// with the weights dequantized (q*s, what a runtime computes with) and the
// size in bytes of a file holding that: the graph file with every float
// parameter stored float32 (CompressGraph with nothing shared: the same
// header, graph section and section framing as ours), less 3 bytes per
// weight element, plus 4 bytes of scale per weight tensor. (The .dcz format
// has no int8 section; the size is computed, not written.)
func Int8Baseline(g *graph.Graph) (*graph.Graph, int64, error) {
	_, all, err := CompressGraph(g, Options{Config: Config{MinSize: math.MaxInt}})
	if err != nil {
		return nil, 0, err
	}
	size := all.OutBytes
	q := *g
	q.Params = make(map[string]*graph.Tensor, len(g.Params))
	for k, v := range g.Params {
		q.Params[k] = v
	}
	for _, w := range g.Weights() {
		t := g.Params[w.Param]
		q.Params[w.Param] = graph.NewFloat(t.Shape, Int8Dequantized(t.F))
		size += int64(-3*len(t.F) + 4)
	}
	return &q, size, nil
}

// Int8Dequantized quantizes w to symmetric per-tensor int8 (see
// Int8Baseline) and returns the dequantized values.
func Int8Dequantized(w []float32) []float32 {
	var m float64
	for _, v := range w {
		m = math.Max(m, math.Abs(float64(v)))
	}
	out := make([]float32, len(w))
	if m == 0 {
		return out
	}
	s := m / 127
	for i, v := range w {
		out[i] = float32(math.Max(-127, math.Min(127, math.RoundToEven(float64(v)/s))) * s)
	}
	return out
}

// uniformGrid shares values among at most k evenly spaced values from
// their smallest to their largest, each value to the nearest (round half
// to even on the grid index); the codebook keeps only the grid values
// used, ascending.
func uniformGrid(vals []float32, k int) *quantize.Result {
	res := &quantize.Result{Centroids: []float32{}, Assign: make([]uint16, len(vals)), Converged: true}
	if len(vals) == 0 {
		return res
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	step := (float64(hi) - float64(lo)) / float64(k-1)
	grid := make([]int32, len(vals))
	used := make([]bool, k)
	for i, v := range vals {
		j := 0
		if step > 0 {
			j = int(math.Max(0, math.Min(float64(k-1), math.RoundToEven((float64(v)-float64(lo))/step))))
		}
		grid[i] = int32(j)
		used[j] = true
	}
	index := make([]uint16, k)
	for j, u := range used {
		if u {
			index[j] = uint16(len(res.Centroids))
			res.Centroids = append(res.Centroids, float32(float64(lo)+float64(j)*step))
		}
	}
	for i, j := range grid {
		res.Assign[i] = index[j]
		d := float64(vals[i]) - float64(res.Centroids[index[j]])
		res.Inertia += d * d
	}
	return res
}
