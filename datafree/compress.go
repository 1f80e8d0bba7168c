package datafree

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/deepcompress/deepcompress/arch"
	membudget "github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
	"github.com/deepcompress/deepcompress/settings"
)

// Options controls Compress. The zero value compresses with the default
// config: every tensor of rank 2 or more and at least DefaultMinSize
// elements shared among 2^b values (b = 8 for rank-4 tensors, 5 for
// others), nothing pruned.
type Options struct {
	Config Config
	// Name is recorded in the file as the model's name.
	Name string
	// Workers is the number of tensors processed at once, each large one
	// also split across that many goroutines; 0 means GOMAXPROCS.
	Workers int
	// MemoryBudget bounds the estimated bytes of the tensors in flight
	// (read and not yet written); 0 means DefaultMemoryBudget. A tensor
	// estimated above it is processed alone.
	MemoryBudget int64
	// MaxInFlight bounds the number of tensors in flight; 0 means twice
	// Workers.
	MaxInFlight int
	// Progress, if set, is called with each tensor's statistics once it
	// is written, in file order, on the goroutine that called Compress.
	Progress func(TensorStats)
	// HalfCodebooks stores codebooks in float16, 2 bytes a shared value
	// (CompressGraph only): the centroids are rounded to float16 before
	// the weights are assigned to them (k-means values then take Lloyd
	// steps on float16 values), and a tensor keeps the float16
	// codebook where that loses nothing measurable, that is where its
	// sharing error (RMS over the survivors) grows by at most
	// HalfTolerance, and a float32 codebook elsewhere.
	HalfCodebooks bool
	// HalfRaw stores in float16 the float parameters left raw (biases,
	// normalisation, small weights) where rounding moves no value by more
	// than 2^-11 of the tensor's largest magnitude (dcz.Float16Fits);
	// others stay float32 (CompressGraph only).
	HalfRaw bool
	// Coder is the entropy coder of the shared tensors (dcz.Coder):
	// Huffman (the default), arithmetic, or the smaller per tensor.
	Coder dcz.Coder
	// MaxBytes, if positive, makes CompressGraph choose the bits and grid
	// of each weight by FitGraph so that the file takes at most MaxBytes;
	// MaxBytesInt8 (-1) means the size of Int8Baseline's file.
	MaxBytes int64
	// Context, if set, stops the run once it is done: no tensor is
	// started after that, those under way finish, and the call returns an
	// error wrapping Context.Err() (CompressFile then writes nothing).
	Context context.Context
}

// MaxBytesInt8 is the Options.MaxBytes asking for the size of the plain
// per-tensor int8 file.
const MaxBytesInt8 = -1

// DefaultMemoryBudget is the default Options.MemoryBudget.
const DefaultMemoryBudget = 512 << 20

func (o *Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (o *Options) newBudget(workers int) *budget {
	bytes, tensors := o.MemoryBudget, o.MaxInFlight
	if bytes <= 0 {
		bytes = DefaultMemoryBudget
	}
	if tensors <= 0 {
		tensors = 2 * workers
	}
	b := newBudget(bytes, tensors)
	b.ctx = o.Context
	return b
}

// TensorStats describes what happened to one tensor.
type TensorStats struct {
	Name  string            `json:"name"`
	Shape []int             `json:"shape"`
	DType safetensors.DType `json:"dtype"` // in the input
	// Raw is true for a tensor stored raw (float32, or float16 if Half).
	Raw bool `json:"raw"`
	// Rule is the index of the config rule that matched, -1 for none.
	Rule int `json:"rule"`
	// Setting is the resolved setting of a compressed tensor.
	Setting Setting `json:"setting,omitzero"`
	Weights int     `json:"weights"` // elements
	Kept    int     `json:"kept"`    // survivors (all for a raw tensor)
	// Threshold is the smallest magnitude kept.
	Threshold float32 `json:"threshold,omitempty"`
	Codebook  int     `json:"codebook,omitempty"` // shared values
	// RMSError is the root mean square of w - shared(w) over the
	// survivors: the weight-sharing error alone.
	RMSError float64 `json:"rms_error,omitempty"`
	InBytes  int64   `json:"in_bytes"`  // bytes in the input file
	Bytes    int     `json:"out_bytes"` // section bytes in the .dcz file
	// Half is true for a tensor stored in float16: the codebook of a
	// shared tensor, the values of a raw one (Options.HalfCodebooks,
	// HalfRaw).
	Half bool `json:"half,omitempty"`
	// Fallback is true for a weight stored raw because its coded
	// section (CodedBytes) would have been no smaller.
	Fallback   bool `json:"fallback,omitempty"`
	CodedBytes int  `json:"coded_bytes,omitempty"`
	// Time is the time spent on the tensor, from its first read to its
	// encoded section.
	Time time.Duration `json:"time_ns"`
}

// Result summarises a compression.
type Result struct {
	Tensors []TensorStats `json:"tensors"`
	// UnusedRules lists the config rules that matched no tensor, a likely
	// mistake in the patterns.
	UnusedRules []int `json:"unused_rules,omitempty"`
	Params      int64 `json:"params"` // all elements
	Compressed  int64 `json:"compressed"`
	Kept        int64 `json:"kept"`        // survivors of the compressed tensors
	InBytes     int64 `json:"in_bytes"`    // size of the input file
	DenseBytes  int64 `json:"dense_bytes"` // 4 bytes per element
	OutBytes    int64 `json:"out_bytes"`
	// GraphBytes is what of OutBytes is not a tensor section: header,
	// description, graph section, end section (CompressGraph).
	GraphBytes int64 `json:"graph_bytes,omitempty"`
	// PeakInFlight and PeakBudget are the most tensors and estimated
	// bytes that were in flight at once.
	PeakInFlight int   `json:"peak_in_flight"`
	PeakBudget   int64 `json:"peak_budget"`
}

// Ratio is DenseBytes / OutBytes: the compression against float32.
func (r *Result) Ratio() float64 {
	if r.OutBytes == 0 {
		return 0
	}
	return float64(r.DenseBytes) / float64(r.OutBytes)
}

// CompressFile compresses the safetensors file in into the .dcz file out,
// which appears only once complete (see Compress).
func CompressFile(in, out string, opt Options) (*Result, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, fmt.Errorf("datafree: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("datafree: %w", err)
	}
	var res *Result
	err = atomicfile.Write(out, func(w io.Writer) error {
		res, err = Compress(w, f, st.Size(), opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// job is one tensor to compress.
type job struct {
	entry safetensors.Entry
	plan  plan
}

// Compress reads a safetensors file of size bytes from r (F32, F16 or
// BF16 tensors) and writes a tensors-only .dcz file to w: each tensor
// pruned, shared and Huffman coded by its setting, or stored as float32,
// in the input's data order. See the package documentation for how it
// streams.
func Compress(w io.Writer, r io.ReaderAt, size int64, opt Options) (*Result, error) {
	if opt.MaxBytes != 0 || opt.HalfCodebooks || opt.HalfRaw {
		return nil, fmt.Errorf("datafree: MaxBytes, HalfCodebooks and HalfRaw are for graphs (ONNX models), not safetensors files")
	}
	opt.Config.Rules = slices.Clone(opt.Config.Rules) // Validate compiles into them
	if err := opt.Config.Validate(); err != nil {
		return nil, err
	}
	rd, err := safetensors.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	jobs, res, err := planAll(rd, &opt.Config)
	if err != nil {
		return nil, err
	}
	res.InBytes = size
	cw := &countingWriter{w: w}
	enc, err := dcz.NewEncoder(cw, arch.Spec{Name: opt.Name})
	if err != nil {
		return nil, err
	}
	workers := opt.workers()
	b := opt.newBudget(workers)
	p := stages[*job, *encoded]{
		n: len(jobs), workers: workers,
		cost:  func(i int) int64 { return jobs[i].cost(workers) },
		admit: func(i int) (*job, error) { return jobs[i], nil },
		work: func(_ int, j *job) (*encoded, error) {
			return compressTensor(enc, newSource(r, rd.DataOffset(), j.entry), j, workers, opt.Coder)
		},
		emit: func(i int, e *encoded) error {
			if err := enc.WriteFrame(e.frame); err != nil {
				return err
			}
			res.add(e.stats)
			if opt.Progress != nil {
				opt.Progress(e.stats)
			}
			return nil
		},
	}
	if err := p.run(b); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	res.OutBytes = cw.n
	res.PeakInFlight, res.PeakBudget = b.peakCount, b.peakUsed
	return res, nil
}

// planAll resolves every tensor's setting and checks that the .dcz format
// can hold it, before anything is written.
func planAll(rd *safetensors.Reader, c *Config) ([]*job, *Result, error) {
	res := &Result{}
	used := make([]bool, len(c.Rules))
	var jobs []*job
	for _, e := range rd.Entries() {
		if !e.DType.Convertible() {
			return nil, nil, &safetensors.DTypeError{Tensor: e.Name, DType: e.DType}
		}
		n := e.Numel()
		switch {
		case n == 0:
			return nil, nil, fmt.Errorf("datafree: tensor %q has shape %s: a .dcz file cannot hold an empty tensor", e.Name, membudget.Shape(e.Shape))
		case len(e.Shape) > dcz.MaxDims || uint64(n) > dcz.MaxElems || len(e.Name) > dcz.MaxNameLen:
			return nil, nil, fmt.Errorf("datafree: tensor %q with shape %s exceeds the limits of a .dcz file (rank %d, 2^32 elements, %d-byte names)", e.Name, membudget.Shape(e.Shape), dcz.MaxDims, dcz.MaxNameLen)
		}
		pl := c.planFor(e.Name, e.Shape)
		if pl.rule >= 0 {
			used[pl.rule] = true
		}
		jobs = append(jobs, &job{entry: e, plan: pl})
	}
	for i, u := range used {
		if !u {
			res.UnusedRules = append(res.UnusedRules, i)
		}
	}
	return jobs, res, nil
}

// cost estimates the bytes a tensor holds while in flight: for a raw one
// its values and its section; for a compressed one the read buffers and
// histograms of its parts, and about 32 bytes per survivor (position,
// value, the sort buffers of the clustering, index, gap and section).
func (j *job) cost(workers int) int64 {
	n := int64(j.entry.Numel())
	if j.plan.raw {
		return 8*n + 4096
	}
	parts := int64(len(split(int(n), workers)) - 1)
	perPart := int64(chunkElems*(4+j.entry.DType.Size())) + 8*hiBuckets
	kept := j.plan.Keep
	if j.plan.Quality > 0 {
		kept = math.Erfc(j.plan.Quality / math.Sqrt2) // as if bell-shaped
	}
	return parts*perPart + int64(32*kept*float64(n)) + 4096
}

// smallerRaw returns the float32 section of src's tensor instead of its
// coded section when that is no larger, marking st as a fallback, as
// CompressGraph does: small tensors whose codebook and code tables cost
// more than their values are stored raw.
func smallerRaw(enc *dcz.Encoder, src *source, coded []byte, st *TensorStats) ([]byte, error) {
	data, err := src.readAll()
	if err != nil {
		return nil, err
	}
	raw, err := enc.EncodeRaw(&dcz.Tensor{Name: st.Name, Shape: st.Shape, Data: data})
	if err != nil || len(raw) > len(coded) {
		return coded, err
	}
	st.Raw, st.Fallback, st.CodedBytes, st.Kept = true, true, len(coded), len(data)
	return raw, nil
}

// encoded is a tensor's section and statistics.
type encoded struct {
	frame []byte
	stats TensorStats
}

func compressTensor(enc *dcz.Encoder, src *source, j *job, workers int, coder dcz.Coder) (*encoded, error) {
	start := time.Now()
	e := j.entry
	st := TensorStats{
		Name: e.Name, Shape: slices.Clone(e.Shape), DType: e.DType, Raw: j.plan.raw,
		Rule: j.plan.rule, Weights: src.n, InBytes: e.End - e.Begin,
	}
	var frame []byte
	if j.plan.raw {
		data, err := src.readAll()
		if err != nil {
			return nil, err
		}
		st.Kept = len(data)
		if frame, err = enc.EncodeRaw(&dcz.Tensor{Name: e.Name, Shape: e.Shape, Data: data}); err != nil {
			return nil, err
		}
	} else {
		l, rms, err := shareTensor(src, j.plan.Setting, e.Shape, workers)
		if err != nil {
			return nil, err
		}
		st.Setting, st.Kept, st.Codebook, st.RMSError = j.plan.Setting, len(l.Pos), len(l.Codebook), rms
		st.Threshold = l.threshold
		l.Coder = coder
		if frame, err = enc.EncodeLayer(&l.Layer); err != nil {
			return nil, err
		}
		if len(frame) >= 4*src.n { // maybe no smaller than float32: measure
			if frame, err = smallerRaw(enc, src, frame, &st); err != nil {
				return nil, err
			}
		}
	}
	st.Bytes = len(frame)
	st.Time = time.Since(start)
	return &encoded{frame: frame, stats: st}, nil
}

// sharedLayer is a compressed tensor and its pruning threshold.
type sharedLayer struct {
	dcz.Layer
	threshold float32
}

// shareTensor prunes the tensor and clusters its survivors into at most
// 2^Bits shared values by 1-D k-means (linear initialisation, Lloyd's
// algorithm to a fixed point). It returns the layer and the RMS error of
// the sharing over the survivors.
func shareTensor(src *source, s Setting, shape []int, workers int) (*sharedLayer, float64, error) {
	sv, err := magnitudePrune(src, s, workers)
	if err != nil {
		return nil, 0, err
	}
	var c *quantize.Result
	if s.Grid == GridUniform {
		c = uniformGrid(sv.vals, 1<<s.Bits)
	} else if c, err = quantize.Cluster(sv.vals, 1<<s.Bits, quantize.Options{Workers: workers}); err != nil {
		return nil, 0, fmt.Errorf("datafree: tensor %q: %w", src.name, err)
	}
	rms := 0.0
	if len(sv.vals) > 0 {
		rms = math.Sqrt(c.Inertia / float64(len(sv.vals)))
	}
	l := &sharedLayer{threshold: sv.threshold, Layer: dcz.Layer{
		Layer: quantize.Layer{
			Name: src.name, Shape: slices.Clone(shape), Bits: s.Bits,
			Codebook: c.Centroids, Pos: sv.pos, Idx: c.Assign,
		},
		Kind:      settings.KindOfShape(shape),
		IndexBits: s.IndexBits,
	}}
	return l, rms, nil
}

func (r *Result) add(st TensorStats) {
	r.Tensors = append(r.Tensors, st)
	r.Params += int64(st.Weights)
	r.DenseBytes += 4 * int64(st.Weights)
	if !st.Raw {
		r.Compressed += int64(st.Weights)
		r.Kept += int64(st.Kept)
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ShareTensor prunes and shares one tensor of the safetensors file of
// size bytes in r by s, as Compress does, on up to workers goroutines
// (0 means GOMAXPROCS). Unset fields of s take the built-in defaults.
func ShareTensor(r io.ReaderAt, size int64, name string, s Setting, workers int) (*dcz.Layer, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("datafree: tensor %q: %w", name, err)
	}
	rd, err := safetensors.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	e, ok := rd.Entry(name)
	if !ok {
		return nil, fmt.Errorf("datafree: no tensor %q", name)
	}
	if !e.DType.Convertible() {
		return nil, &safetensors.DTypeError{Tensor: name, DType: e.DType}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	l, _, err := shareTensor(newSource(r, rd.DataOffset(), e), fill(s, Setting{}, e.Shape), e.Shape, workers)
	if err != nil {
		return nil, err
	}
	return &l.Layer, nil
}
