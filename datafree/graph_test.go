package datafree

import (
	"bytes"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/npy"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/quantize"
)

const zooDir = "../testdata/zoo"

func loadZoo(t *testing.T, name string) *graph.Graph {
	t.Helper()
	g, err := onnx.ImportGraphFile(filepath.Join(zooDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// runGraph runs g on the zoo's reference input of net and returns the
// single output.
func runGraph(t *testing.T, g *graph.Graph, net string) *graph.Tensor {
	t.Helper()
	shape, x, err := npy.ReadFloat32File(filepath.Join(zooDir, net+"_input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(map[string]*graph.Tensor{g.Inputs[0].Name: graph.NewFloat(shape, x)})
	if err != nil {
		t.Fatal(err)
	}
	return out[g.Outputs[0].Name].Clone()
}

func argmaxRows(t *graph.Tensor) []int {
	cols := t.Shape[len(t.Shape)-1]
	var out []int
	for r := 0; r+cols <= len(t.F); r += cols {
		best := 0
		for c := range cols {
			if t.F[r+c] > t.F[r+best] {
				best = c
			}
		}
		out = append(out, best)
	}
	return out
}

// writeRead writes m and reads the file back, checking its size.
func writeRead(t *testing.T, m *dcz.Model, res *Result) *dcz.Model {
	t.Helper()
	var buf bytes.Buffer
	if err := dcz.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != res.OutBytes {
		t.Fatalf("file of %d bytes, the result says %d", buf.Len(), res.OutBytes)
	}
	back, err := dcz.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestCompressGraphZooResNet: data-free at 8 bits on the zoo's ResNet
// (opset 17) gives a graph file that reads back and runs, whose outputs
// pick the original's class on the reference batch and stay close.
func TestCompressGraphZooResNet(t *testing.T) {
	g := loadZoo(t, "resnet_op17.onnx")
	want := runGraph(t, g, "resnet")
	m, res, err := CompressGraph(g, Options{Config: Config{Default: Setting{Bits: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	back := writeRead(t, m, res)
	dg, err := back.WithWeights()
	if err != nil {
		t.Fatal(err)
	}
	got := runGraph(t, dg, "resnet")
	for i, a := range argmaxRows(want) {
		if b := argmaxRows(got)[i]; a != b {
			t.Errorf("image %d: top-1 %d, original %d", i, b, a)
		}
	}
	var num, den float64
	for i := range want.F {
		d := float64(got.F[i] - want.F[i])
		num += d * d
		den += float64(want.F[i]) * float64(want.F[i])
	}
	if rel := math.Sqrt(num / den); rel > 0.02 {
		t.Errorf("logits relative error %.3g, want at most 2%%", rel)
	}

	// Every float parameter is stored once: the weights of at least
	// DefaultMinSize elements shared, everything else float32, bit for bit.
	var params, shared int
	for _, name := range g.ParamNames() {
		if g.Params[name].DType == graph.Float32 {
			params++
		}
	}
	for _, w := range g.Weights() {
		if len(g.Params[w.Param].F) >= DefaultMinSize {
			shared++
		}
	}
	if len(back.Layers) != shared || len(back.Layers)+len(back.Raw) != params || len(res.Tensors) != params {
		t.Fatalf("%d layers and %d raw tensors (%d stats), want %d shared of %d", len(back.Layers), len(back.Raw), len(res.Tensors), shared, params)
	}
	for _, r := range back.Raw {
		orig := g.Params[r.Name].F
		for i := range orig {
			if math.Float32bits(orig[i]) != math.Float32bits(r.Data[i]) {
				t.Fatalf("raw tensor %s differs at %d", r.Name, i)
			}
		}
	}
	for _, l := range back.Layers {
		if len(l.Codebook) > 256 || l.Bits != 8 || !g.IsWeight(l.Name) {
			t.Errorf("layer %s: %d bits, %d shared values", l.Name, l.Bits, len(l.Codebook))
		}
	}
	if res.Ratio() < 3 || res.GraphBytes <= 0 || res.GraphBytes > 4096 {
		t.Errorf("ratio %.2f, graph bytes %d", res.Ratio(), res.GraphBytes)
	}
}

// TestCompressGraphRawFallback: with no size threshold, small weights
// whose codebook and code tables cost more than their float32 values are
// stored float32, and the result says so; the big ones are still coded.
func TestCompressGraphRawFallback(t *testing.T) {
	g := loadZoo(t, "resnet_op17.onnx")
	m, res, err := CompressGraph(g, Options{Config: Config{MinSize: 1, Default: Setting{Bits: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	back := writeRead(t, m, res)
	raw := map[string]bool{}
	for _, r := range back.Raw {
		raw[r.Name] = true
	}
	fallbacks := 0
	for _, s := range res.Tensors {
		if s.Fallback {
			fallbacks++
			if !s.Raw || !raw[s.Name] || s.CodedBytes < s.Bytes {
				t.Errorf("fallback %s: raw %v, coded %d bytes, stored %d", s.Name, s.Raw, s.CodedBytes, s.Bytes)
			}
		}
		if !s.Raw && s.Bytes >= 4*s.Weights {
			t.Errorf("%s coded in %d bytes, more than float32", s.Name, s.Bytes)
		}
	}
	// The stem kernel [16,1,3,3] (144 weights) costs more coded at 8 bits.
	if fallbacks == 0 {
		t.Error("no weight fell back to float32")
	}
	if len(back.Layers) == 0 {
		t.Error("nothing shared")
	}
	if _, err := back.WithWeights(); err != nil {
		t.Fatal(err)
	}
}

// TestCompressGraphHalfCodebooks: HalfCodebooks stores float16 codebooks
// (2 bytes a shared value) whose values were rounded before the weights
// were assigned: every survivor carries the stored value nearest to its
// weight, and the sharing error grew by at most HalfTolerance. Files
// without the option are unchanged by it.
func TestCompressGraphHalfCodebooks(t *testing.T) {
	g := loadZoo(t, "mlp_op17.onnx")
	opt := Options{Config: Config{Default: Setting{Bits: 6}}}
	_, plain, err := CompressGraph(g, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.HalfCodebooks = true
	m, res, err := CompressGraph(g, opt)
	if err != nil {
		t.Fatal(err)
	}
	back := writeRead(t, m, res)
	if len(back.Layers) == 0 {
		t.Fatal("nothing shared")
	}
	half := map[string]bool{}
	for _, s := range res.Tensors {
		half[s.Name] = s.Half
	}
	saved := int64(0)
	for _, l := range back.Layers {
		if !half[l.Name] || l.Precision != dcz.Float16 {
			t.Errorf("%s: half %v, stored %v", l.Name, half[l.Name], l.Precision)
			continue
		}
		saved += 2 * int64(len(l.Codebook))
		w := g.Params[l.Name].F
		for i, p := range l.Pos {
			if j := nearestShared(l.Codebook, w[p]); l.Codebook[j] != l.Codebook[l.Idx[i]] {
				t.Fatalf("%s: weight %d (%g) carries %g, %g is nearer", l.Name, p, w[p], l.Codebook[l.Idx[i]], l.Codebook[j])
			}
		}
	}
	for i, s := range res.Tensors {
		if p := plain.Tensors[i]; !s.Raw && s.RMSError > p.RMSError*(1+HalfTolerance) {
			t.Errorf("%s: sharing error %g, %g with float32", s.Name, s.RMSError, p.RMSError)
		}
	}
	if got := plain.OutBytes - res.OutBytes; got < saved/2 {
		t.Errorf("float16 codebooks saved %d bytes of %d -> %d, want about %d", got, plain.OutBytes, res.OutBytes, saved)
	}
}

// TestHalfCodebookAssignment: rounding (without Lloyd steps, as for a
// uniform grid) merges shared values that meet in float16 and reassigns
// each weight to the nearest stored value, which the unrounded assignment
// would not always give.
func TestHalfCodebookAssignment(t *testing.T) {
	w := []float32{1, 1.0004, 1.0006, 2, 3}
	l := &dcz.Layer{Layer: quantize.Layer{Name: "w", Shape: []int{5}, Bits: 2,
		Codebook: []float32{1, 1.0002, 1.0007, 2.5}, Pos: []uint32{0, 1, 2, 3, 4}, Idx: []uint16{0, 1, 2, 3, 3}}}
	h, rms, ok := halfCodebook(l, w, false)
	if !ok {
		t.Fatal("refused")
	}
	// float16 values near 1 are 2^-10 apart: 1, 1.0009765625; 2.5 is exact.
	if want := []float32{1, 1.0009765625, 2.5}; !slices.Equal(h.Codebook, want) {
		t.Errorf("codebook %v, want %v", h.Codebook, want)
	}
	if want := []uint16{0, 0, 1, 2, 2}; !slices.Equal(h.Idx, want) {
		t.Errorf("indices %v, want %v", h.Idx, want)
	}
	if h.Precision != dcz.Float16 || l.Precision != dcz.Float32 || l.Codebook[1] != 1.0002 {
		t.Errorf("precision %v (original %v, codebook %v)", h.Precision, l.Precision, l.Codebook)
	}
	if want := sharingRMS(&h.Layer, w); rms != want || rms == 0 {
		t.Errorf("rms %g, want %g", rms, want)
	}
	big := &dcz.Layer{Layer: quantize.Layer{Name: "w", Shape: []int{1}, Bits: 1, Codebook: []float32{1e5}, Pos: []uint32{0}, Idx: []uint16{0}}}
	if _, _, ok := halfCodebook(big, []float32{1e5}, true); ok {
		t.Error("a shared value beyond float16's range accepted")
	}
}

// TestHalfCodebookLloyd: with Lloyd steps each float16 value is the
// rounded mean of the weights nearest to it (a k-means fixed point on
// float16 values), and the sharing error is smaller than with rounding and
// reassignment alone.
func TestHalfCodebookLloyd(t *testing.T) {
	r := newRand(3)
	w := bell(r, 5000, 0.05)
	c, err := quantize.Cluster(w, 64, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pos := make([]uint32, len(w))
	for i := range pos {
		pos[i] = uint32(i)
	}
	l := &dcz.Layer{Layer: quantize.Layer{Name: "w", Shape: []int{len(w)}, Bits: 6, Codebook: c.Centroids, Pos: pos, Idx: c.Assign}}
	h, rms, ok := halfCodebook(l, w, true)
	_, plain, _ := halfCodebook(l, w, false)
	if !ok || rms >= plain {
		t.Fatalf("ok %v, rms %g with Lloyd steps, %g without", ok, rms, plain)
	}
	sum := make([]float64, len(h.Codebook))
	n := make([]int, len(h.Codebook))
	for i, p := range h.Pos {
		if j := nearestShared(h.Codebook, w[p]); j != h.Idx[i] {
			t.Fatalf("weight %d: index %d, nearest %d", p, h.Idx[i], j)
		}
		sum[h.Idx[i]] += float64(w[p])
		n[h.Idx[i]]++
	}
	for j, v := range h.Codebook {
		mean := []float32{float32(sum[j] / float64(n[j]))}
		dcz.RoundFloat16(mean)
		if n[j] == 0 || mean[0] != v {
			t.Errorf("value %d = %g, the rounded mean of its %d weights is %g", j, v, n[j], mean[0])
		}
	}
}

// TestCompressGraphHalfRaw: HalfRaw stores in float16 the raw parameters
// that float16 holds within 2^-11 of their largest magnitude; the others
// stay float32, bit for bit.
func TestCompressGraphHalfRaw(t *testing.T) {
	g := loadZoo(t, "resnet_op17.onnx")
	m, res, err := CompressGraph(g, Options{HalfRaw: true})
	if err != nil {
		t.Fatal(err)
	}
	back := writeRead(t, m, res)
	halves := 0
	for _, r := range back.Raw {
		orig := g.Params[r.Name].F
		if want := dcz.Float16Fits(orig); (r.Precision == dcz.Float16) != want {
			t.Errorf("%s: stored %v, fits float16 %v", r.Name, r.Precision, want)
		}
		tol := 0.0
		if r.Precision == dcz.Float16 {
			halves++
			for _, v := range orig {
				tol = max(tol, math.Abs(float64(v))/2048)
			}
		}
		for i, v := range r.Data {
			if d := math.Abs(float64(v) - float64(orig[i])); d > tol || math.IsNaN(d) && !math.IsNaN(float64(orig[i])) {
				t.Fatalf("%s[%d] = %v, was %v", r.Name, i, v, orig[i])
			}
		}
	}
	if halves == 0 {
		t.Error("no raw tensor stored in float16")
	}
	for _, s := range res.Tensors {
		if s.Raw && s.Half && s.Bytes > 2*s.Weights+64 {
			t.Errorf("%s: %d bytes for %d float16 values", s.Name, s.Bytes, s.Weights)
		}
	}
}

// TestCompressGraphEmptyTensor: an empty float parameter (the roi of
// Resize at opset 11, from a Constant node) is stored as it is, an empty
// float32 tensor of shape [0].
func TestCompressGraphEmptyTensor(t *testing.T) {
	g := loadZoo(t, "unet_op11.onnx")
	var empty []string
	for _, name := range g.ParamNames() {
		if p := g.Params[name]; p.DType == graph.Float32 && len(p.F) == 0 {
			empty = append(empty, name)
		}
	}
	if len(empty) == 0 {
		t.Fatal("the U-Net at opset 11 has no empty float parameter")
	}
	jobs, _, err := planGraph(g, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if len(j.t.F) == 0 && !j.plan.raw {
			t.Errorf("empty %s planned for sharing", j.name)
		}
	}
	m, res, err := CompressGraph(g, Options{})
	if err != nil {
		if strings.Contains(err.Error(), "0 values for shape [0]") {
			t.Fatalf("an empty tensor: %v", err)
		}
		t.Fatal(err)
	}
	back := writeRead(t, m, res)
	dg, err := back.WithWeights()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range empty {
		if p := dg.Params[name]; p == nil || p.DType != graph.Float32 || len(p.F) != 0 || len(p.Shape) != 1 || p.Shape[0] != 0 {
			t.Errorf("%s read back as %+v", name, p)
		}
	}
	runGraph(t, dg, "unet")
}

// TestInt8Baseline: every weight is quantized to 255 levels of one step
// per tensor, within half a step, and the size is the float32 file less 3
// bytes per weight plus a 4-byte scale per weight tensor.
func TestInt8Baseline(t *testing.T) {
	g := loadZoo(t, "resnet_op17.onnx")
	q, size, err := Int8Baseline(g)
	if err != nil {
		t.Fatal(err)
	}
	_, all, err := CompressGraph(g, Options{Config: Config{MinSize: math.MaxInt}})
	if err != nil {
		t.Fatal(err)
	}
	want := all.OutBytes
	for _, w := range g.Weights() {
		orig, got := g.Params[w.Param].F, q.Params[w.Param].F
		want += int64(4 - 3*len(orig))
		var m float64
		for _, v := range orig {
			m = math.Max(m, math.Abs(float64(v)))
		}
		step := m / 127
		levels := map[float32]bool{}
		for i, v := range orig {
			levels[got[i]] = true
			if d := math.Abs(float64(got[i] - v)); d > step/2*1.0001 {
				t.Fatalf("%s[%d]: %g quantized to %g, step %g", w.Param, i, v, got[i], step)
			}
		}
		if len(levels) > 255 {
			t.Errorf("%s: %d levels", w.Param, len(levels))
		}
	}
	if size != want || all.Compressed != 0 {
		t.Errorf("size %d, want %d (%d params shared in the float32 file)", size, want, all.Compressed)
	}
	for name, p := range g.Params {
		if !g.IsWeight(name) && q.Params[name] != p {
			t.Errorf("%s changed", name)
		}
	}
}

// TestUniformGrid: the uniform grid keeps at most k ascending values,
// evenly spaced from the smallest value to the largest, and puts each
// value within half a step of its shared value.
func TestUniformGrid(t *testing.T) {
	vals := bell(newRand(3), 5000, 0.1)
	for _, k := range []int{2, 16, 256} {
		c := uniformGrid(vals, k)
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		step := (float64(hi) - float64(lo)) / float64(k-1)
		if len(c.Centroids) > k || c.Centroids[0] != lo || math.Abs(float64(c.Centroids[len(c.Centroids)-1]-hi)) > 1e-6 {
			t.Fatalf("k=%d: %d values from %g to %g, data %g..%g", k, len(c.Centroids), c.Centroids[0], c.Centroids[len(c.Centroids)-1], lo, hi)
		}
		for j := 1; j < len(c.Centroids); j++ {
			if c.Centroids[j] <= c.Centroids[j-1] {
				t.Fatalf("k=%d: codebook not ascending at %d", k, j)
			}
			if r := (float64(c.Centroids[j]) - float64(lo)) / step; math.Abs(r-math.Round(r)) > 1e-3 {
				t.Fatalf("k=%d: %g is off the grid", k, c.Centroids[j])
			}
		}
		var sum float64
		for i, v := range vals {
			d := math.Abs(float64(v) - float64(c.Centroids[c.Assign[i]]))
			if d > step/2*1.0001 {
				t.Fatalf("k=%d: %g shared as %g, step %g", k, v, c.Centroids[c.Assign[i]], step)
			}
			sum += d * d
		}
		if math.Abs(sum-c.Inertia) > 1e-9*max(1, sum) {
			t.Errorf("k=%d: inertia %g, want %g", k, c.Inertia, sum)
		}
	}
	if c := uniformGrid([]float32{0.5, 0.5}, 8); len(c.Centroids) != 1 || c.Centroids[0] != 0.5 || c.Inertia != 0 {
		t.Errorf("constant values: %+v", c)
	}
	if c := uniformGrid(nil, 8); len(c.Centroids) != 0 || len(c.Assign) != 0 {
		t.Errorf("no values: %+v", c)
	}
}

// TestCompressGraphUniform: the uniform grid on the zoo's ResNet gives a
// smaller file than k-means at the same bits, and still the original's
// classes on the reference batch.
func TestCompressGraphUniform(t *testing.T) {
	g := loadZoo(t, "resnet_op17.onnx")
	want := argmaxRows(runGraph(t, g, "resnet"))
	var sizes [2]int64
	for i, grid := range []string{GridKMeans, GridUniform} {
		m, res, err := CompressGraph(g, Options{Config: Config{Default: Setting{Bits: 8, Grid: grid}}})
		if err != nil {
			t.Fatal(err)
		}
		sizes[i] = res.OutBytes
		dg, err := writeRead(t, m, res).WithWeights()
		if err != nil {
			t.Fatal(err)
		}
		for j, c := range argmaxRows(runGraph(t, dg, "resnet")) {
			if c != want[j] {
				t.Errorf("%s: image %d: class %d, original %d", grid, j, c, want[j])
			}
		}
	}
	if sizes[1] >= sizes[0] {
		t.Errorf("uniform grid %d bytes, k-means %d", sizes[1], sizes[0])
	}
}

func TestConfigGrid(t *testing.T) {
	c, err := ParseConfig([]byte(`{"default": {"grid": "uniform", "bits": 7}, "rules": [{"match": "a*", "grid": "kmeans"}, {"match": "b*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.planFor("a1", []int{64, 64}); p.Grid != GridKMeans || p.Bits != 7 {
		t.Errorf("rule a*: %+v", p)
	}
	if p := c.planFor("b1", []int{64, 64}); p.Grid != GridUniform {
		t.Errorf("rule b*: %+v", p)
	}
	if _, err := ParseConfig([]byte(`{"default": {"grid": "log"}}`)); err == nil {
		t.Error("grid \"log\" accepted")
	}
}

// TestFitGraph: the fitted config gives a file of at most the size asked,
// every weight named, and spends the bytes: within a few percent of it.
func TestFitGraph(t *testing.T) {
	g := loadZoo(t, "resnet_op17.onnx")
	_, int8Bytes, err := Int8Baseline(g)
	if err != nil {
		t.Fatal(err)
	}
	cfg, chosen, err := FitGraph(g, Options{}, int8Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(chosen) != len(g.Weights()) || len(cfg.Rules) != len(chosen) {
		t.Fatalf("%d choices, %d rules for %d weights", len(chosen), len(cfg.Rules), len(g.Weights()))
	}
	_, res, err := CompressGraph(g, Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if res.OutBytes > int8Bytes || res.OutBytes < int8Bytes*95/100 {
		t.Errorf("fitted file %d bytes for a limit of %d", res.OutBytes, int8Bytes)
	}
	for name, c := range chosen {
		t.Logf("%s: %+v", name, c)
	}
	if _, _, err := FitGraph(g, Options{}, 1000); err == nil {
		t.Error("fitted into 1000 bytes")
	}
}

// TestCompressGraphMaxBytes: MaxBytesInt8 fits the file to the int8
// baseline's size; safetensors compression refuses the graph options.
func TestCompressGraphMaxBytes(t *testing.T) {
	g := loadZoo(t, "mlp_op17.onnx")
	_, int8Bytes, err := Int8Baseline(g)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := CompressGraph(g, Options{MaxBytes: MaxBytesInt8})
	if err != nil {
		t.Fatal(err)
	}
	if res.OutBytes > int8Bytes || res.OutBytes < int8Bytes*9/10 {
		t.Errorf("%d bytes for the int8 size %d", res.OutBytes, int8Bytes)
	}
	st := encodeST(t, testModel(1))
	if _, err := Compress(io.Discard, bytes.NewReader(st), int64(len(st)), Options{MaxBytes: 1000}); err == nil {
		t.Error("Compress accepted MaxBytes")
	}
}
