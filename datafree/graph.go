package datafree

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
)

// CompressGraph compresses the float parameters of a whole network graph
// (an ONNX model imported by package onnx, Constant-node weights
// included) without data into a version 2 .dcz model that keeps the graph:
//
//   - a weight (g.Weights(): the kernel of a Conv or ConvTranspose, a
//     constant operand of a Gemm or MatMul) is planned by opt.Config as a
//     tensor of a safetensors file would be (rules matched on the parameter
//     name, then the defaults; small tensors stay float32), then pruned and
//     shared as Compress does, with a float16 codebook where
//     opt.HalfCodebooks allows it (see halfCodebook);
//   - a weight whose coded section would be larger than its raw section
//     is stored raw instead (both are encoded and measured;
//     TensorStats.Fallback marks it);
//   - every other float parameter (biases, normalisation, scales, empty
//     tensors) is stored raw as it is: float32, or float16 where
//     opt.HalfRaw allows it; int64 parameters travel inside the graph
//     section.
//
// The model's Graph holds the graph with empty stand-ins for the float
// parameters, as dcz.Read returns it (WithWeights gives the dense graph
// back). The Result counts every parameter: Params and DenseBytes are the
// float parameters at 4 bytes each, OutBytes the exact size of the file
// dcz.Write makes of the model, GraphBytes what of it is not a tensor
// section. opt.Progress is called for each parameter in file order. With
// opt.MaxBytes the config is FitGraph's instead of opt.Config.
func CompressGraph(g *graph.Graph, opt Options) (*dcz.Model, *Result, error) {
	opt.Config.Rules = slices.Clone(opt.Config.Rules) // Validate compiles into them
	if err := opt.Config.Validate(); err != nil {
		return nil, nil, err
	}
	if opt.MaxBytes != 0 {
		limit := opt.MaxBytes
		if limit == MaxBytesInt8 {
			_, n, err := Int8Baseline(g)
			if err != nil {
				return nil, nil, err
			}
			limit = n
		}
		if limit < 0 {
			return nil, nil, fmt.Errorf("datafree: MaxBytes %d", opt.MaxBytes)
		}
		cfg, _, err := FitGraph(g, opt, limit)
		if err != nil {
			return nil, nil, err
		}
		opt.Config, opt.MaxBytes = cfg, 0
	}
	if opt.Name != "" && g.Name == "" {
		c := *g
		c.Name = opt.Name
		g = &c
	}
	jobs, res, err := planGraph(g, &opt.Config)
	if err != nil {
		return nil, nil, err
	}
	cw := &countingWriter{w: io.Discard}
	enc, err := dcz.NewGraphEncoder(cw, g, dcz.Ancillary{})
	if err != nil {
		return nil, nil, err
	}
	m := &dcz.Model{Graph: standIns(g)}
	workers := opt.workers()
	b := opt.newBudget(workers)
	p := stages[*graphJob, *graphEncoded]{
		n: len(jobs), workers: workers,
		cost:  func(i int) int64 { return jobs[i].cost() },
		admit: func(i int) (*graphJob, error) { return jobs[i], nil },
		work: func(_ int, j *graphJob) (*graphEncoded, error) {
			return compressParam(enc, j, workers, opt.half(), opt.Coder)
		},
		emit: func(_ int, e *graphEncoded) error {
			if err := enc.WriteFrame(e.frame); err != nil {
				return err
			}
			if e.layer != nil {
				m.Layers = append(m.Layers, *e.layer)
			} else {
				m.Raw = append(m.Raw, *e.raw)
			}
			res.add(e.stats)
			res.GraphBytes -= int64(e.stats.Bytes)
			if opt.Progress != nil {
				opt.Progress(e.stats)
			}
			return nil
		},
	}
	if err := p.run(b); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	res.OutBytes = cw.n
	res.GraphBytes += cw.n
	res.PeakInFlight, res.PeakBudget = b.peakCount, b.peakUsed
	return m, res, nil
}

// graphJob is one float parameter of a graph.
type graphJob struct {
	name   string
	t      *graph.Tensor
	weight bool
	conv   bool
	plan   plan
}

// cost estimates the bytes the parameter's work holds: its float32 and
// raw sections and, for a weight, about 40 bytes per element (the byte
// copy read by the pruning passes, positions, values, the clustering's
// buffers and the coded section).
func (j *graphJob) cost() int64 {
	n := int64(len(j.t.F))
	if j.plan.raw {
		return 8*n + 4096
	}
	return 48*n + 4096
}

// planGraph lists the float parameters of g in the order a graph file
// stores them (sorted names) with what happens to each.
func planGraph(g *graph.Graph, c *Config) ([]*graphJob, *Result, error) {
	weights := map[string]graph.WeightRef{}
	for _, w := range g.Weights() {
		weights[w.Param] = w
	}
	res := &Result{}
	used := make([]bool, len(c.Rules))
	var jobs []*graphJob
	for _, name := range g.ParamNames() {
		t := g.Params[name]
		if t.DType != graph.Float32 {
			continue
		}
		if n := arch.Numel(t.Shape); n != len(t.F) && !(n <= 0 && len(t.F) == 0) {
			return nil, nil, fmt.Errorf("datafree: parameter %s: %d values for shape %v", graph.Short(name), len(t.F), t.Shape)
		}
		w, isWeight := weights[name]
		j := &graphJob{name: name, t: t, weight: isWeight, conv: w.Conv, plan: plan{raw: true, rule: -1}}
		if isWeight && len(t.F) > 0 {
			j.plan = c.planFor(name, t.Shape)
			if j.plan.rule >= 0 {
				used[j.plan.rule] = true
			}
		}
		jobs = append(jobs, j)
	}
	for i, u := range used {
		if !u {
			res.UnusedRules = append(res.UnusedRules, i)
		}
	}
	return jobs, res, nil
}

// standIns is a shallow copy of g whose float parameters are empty
// tensors of their shape, as a graph file's graph section holds them.
func standIns(g *graph.Graph) *graph.Graph {
	c := *g
	c.Params = make(map[string]*graph.Tensor, len(g.Params))
	for name, t := range g.Params {
		if t.DType == graph.Float32 {
			t = graph.NewFloat(t.Shape, nil)
		}
		c.Params[name] = t
	}
	return &c
}

// graphEncoded is one parameter's section, what it holds and its
// statistics.
type graphEncoded struct {
	frame []byte
	layer *dcz.Layer
	raw   *dcz.Tensor
	stats TensorStats
}

// halfOptions says which tensors may be stored in float16.
type halfOptions struct{ codebooks, raw bool }

func (o *Options) half() halfOptions { return halfOptions{o.HalfCodebooks, o.HalfRaw} }

// HalfTolerance is the relative growth of a tensor's sharing error (RMS
// over its survivors) up to which Options.HalfCodebooks keeps a float16
// codebook: far below what a model's fidelity can resolve, as rounding a
// shared value moves it by at most 2^-11 of itself, which at 8 bits or
// fewer is a small fraction of the spacing between shared values.
const HalfTolerance = 0.01

func compressParam(enc *dcz.Encoder, j *graphJob, workers int, half halfOptions, coder dcz.Coder) (*graphEncoded, error) {
	start := time.Now()
	n := len(j.t.F)
	st := TensorStats{
		Name: j.name, Shape: slices.Clone(j.t.Shape), DType: safetensors.F32, Raw: true,
		Rule: j.plan.rule, Weights: n, Kept: n, InBytes: 4 * int64(n),
	}
	raw := &dcz.Tensor{Name: j.name, Shape: slices.Clone(j.t.Shape), Data: j.t.F}
	if half.raw && dcz.Float16Fits(raw.Data) && raw.SetFloat16() == nil {
		st.Half = true
	}
	rawFrame, err := enc.EncodeRaw(raw)
	if err != nil {
		return nil, err
	}
	out := &graphEncoded{frame: rawFrame, raw: raw}
	if !j.plan.raw {
		src := floatSource(j.name, j.t.F)
		l, rms, err := shareTensor(src, j.plan.Setting, j.t.Shape, workers)
		if err != nil {
			return nil, err
		}
		l.Kind = arch.Dense
		if j.conv {
			l.Kind = arch.Conv2D
		}
		layerHalf := false
		if half.codebooks {
			if hrms, ok := halfIfLossless(&l.Layer, j.t.F, j.plan.Grid); ok {
				rms, layerHalf = hrms, true
			}
		}
		l.Coder = coder
		frame, err := enc.EncodeLayer(&l.Layer)
		if err != nil {
			return nil, err
		}
		st.Setting, st.Codebook, st.RMSError, st.Threshold = j.plan.Setting, len(l.Codebook), rms, l.threshold
		if len(frame) < len(rawFrame) {
			st.Raw, st.Kept, st.Half = false, len(l.Pos), layerHalf
			out = &graphEncoded{frame: frame, layer: &l.Layer}
		} else {
			st.Fallback, st.CodedBytes = true, len(frame)
		}
	}
	st.Bytes = len(out.frame)
	st.Time = time.Since(start)
	out.stats = st
	return out, nil
}

// floatSource is a source over float32 values in memory.
func floatSource(name string, data []float32) *source {
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return &source{r: bytes.NewReader(buf), name: name, dtype: safetensors.F32, n: len(data)}
}

// halfCodebook returns l with its shared values rounded to float16 before
// the weights are assigned to them, so that each survivor carries the
// stored value nearest to its weight in w (the tensor's dense values).
// Rounding alone moves each k-means value off the mean of its weights by
// up to 2^-11 of itself, an error all of them share, so with lloyd a few
// Lloyd steps follow on float16 values: assign each weight to the nearest
// value, then make each value the rounded mean of its weights, until
// nothing changes (halfSteps at most); a uniform grid keeps its rounded
// values. The codebook is the
// distinct values some survivor is nearest to, ascending, stored as
// float16. It also returns the sharing error (sharingRMS); ok is false
// when a shared value lies beyond float16's range.
func halfCodebook(l *dcz.Layer, w []float32, lloyd bool) (h *dcz.Layer, rms float64, ok bool) {
	cb := slices.Clone(l.Codebook)
	if dcz.RoundFloat16(cb) != nil {
		return nil, 0, false
	}
	slices.Sort(cb)
	cb = slices.Compact(cb)
	for step := 0; lloyd && step < halfSteps; step++ {
		next, ok := halfMeans(cb, l.Pos, w)
		if !ok {
			return nil, 0, false
		}
		if slices.Equal(next, cb) {
			break
		}
		cb = next
	}
	c := *l
	c.Codebook, c.Idx = assignUsed(cb, l.Pos, w)
	c.Precision = dcz.Float16
	return &c, sharingRMS(&c.Layer, w), true
}

// halfMeans is one Lloyd step on float16 values: each survivor (w at
// pos) goes to the nearest value of the ascending codebook cb, and each
// value that received some becomes the rounded mean of theirs. The result
// is ascending and distinct; ok is false if a mean rounds beyond float16's
// range.
func halfMeans(cb []float32, pos []uint32, w []float32) ([]float32, bool) {
	sum := make([]float64, len(cb))
	count := make([]int, len(cb))
	for _, p := range pos {
		j := nearestShared(cb, w[p])
		sum[j] += float64(w[p])
		count[j]++
	}
	next := make([]float32, 0, len(cb))
	for j, n := range count {
		if n > 0 {
			next = append(next, float32(sum[j]/float64(n)))
		}
	}
	if dcz.RoundFloat16(next) != nil {
		return nil, false
	}
	slices.Sort(next)
	return slices.Compact(next), true
}

// assignUsed assigns each survivor (w at pos) to the nearest value of the
// ascending codebook cb and returns the values some survivor took, in
// order, with the indices into them.
func assignUsed(cb []float32, pos []uint32, w []float32) ([]float32, []uint16) {
	idx := make([]uint16, len(pos))
	used := make([]bool, len(cb))
	for i, p := range pos {
		idx[i] = nearestShared(cb, w[p])
		used[idx[i]] = true
	}
	remap := make([]uint16, len(cb))
	kept := make([]float32, 0, len(cb))
	for j, u := range used {
		if u {
			remap[j] = uint16(len(kept))
			kept = append(kept, cb[j])
		}
	}
	for i := range idx {
		idx[i] = remap[idx[i]]
	}
	return kept, idx
}

// halfSteps bounds the Lloyd steps of halfCodebook; they converge in a
// few, as the values start at the float32 optimum.
const halfSteps = 8

// halfIfLossless gives l, shared on grid, the float16 codebook of
// halfCodebook where that makes its sharing error at most HalfTolerance
// larger, and then reports true and the new error.
func halfIfLossless(l *dcz.Layer, w []float32, grid string) (float64, bool) {
	base := sharingRMS(&l.Layer, w)
	h, rms, ok := halfCodebook(l, w, grid != GridUniform)
	if !ok || rms > base*(1+HalfTolerance) {
		return 0, false
	}
	*l = *h
	return rms, true
}

// nearestShared is the index of the value of the ascending codebook cb
// nearest to x, the lower one on a tie.
func nearestShared(cb []float32, x float32) uint16 {
	j, _ := slices.BinarySearch(cb, x)
	if j == len(cb) || j > 0 && float64(x)-float64(cb[j-1]) <= float64(cb[j])-float64(x) {
		j--
	}
	return uint16(j)
}

// sharingRMS is the root mean square of w - shared(w) over the survivors
// of l, w being the original dense values.
func sharingRMS(l *quantize.Layer, w []float32) float64 {
	if len(l.Pos) == 0 {
		return 0
	}
	var sum float64
	for i, p := range l.Pos {
		d := float64(w[p]) - float64(l.Codebook[l.Idx[i]])
		sum += d * d
	}
	return math.Sqrt(sum / float64(len(l.Pos)))
}

// CompressGraphFile reads the ONNX model in, compresses it as
// CompressGraph does and writes the .dcz file out (see WriteGraphFile).
// The Result's InBytes is the size of the input file.
func CompressGraphFile(in, out string, opt Options) (*Result, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, fmt.Errorf("datafree: %w", err)
	}
	g, err := onnx.ImportGraphFile(in)
	if err != nil {
		return nil, err
	}
	if opt.Name == "" && g.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	}
	res, err := WriteGraphFile(out, g, opt)
	if err != nil {
		return nil, err
	}
	res.InBytes = st.Size()
	return res, nil
}

// WriteGraphFile compresses g as CompressGraph does and writes the .dcz
// file out, which appears only once complete.
func WriteGraphFile(out string, g *graph.Graph, opt Options) (*Result, error) {
	m, res, err := CompressGraph(g, opt)
	if err != nil {
		return nil, err
	}
	var written int64
	err = atomicfile.Write(out, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		err := dcz.Write(cw, m)
		written = cw.n
		return err
	})
	if err != nil {
		return nil, err
	}
	if written != res.OutBytes {
		return nil, fmt.Errorf("datafree: %s: wrote %d bytes, measured %d", out, written, res.OutBytes)
	}
	return res, nil
}
