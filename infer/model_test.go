package infer

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
)

var full = flag.Bool("infer.full", false, "compare with the dense engine on all 10,000 MNIST test images (default: the first 1,000)")

// maxLogitDiff is acceptance criterion 1: logits within 1e-4 of the dense
// engine's.
const maxLogitDiff = 1e-4

// compare runs both engines on n samples and checks the outputs, returning
// the largest difference and how many argmaxes agree.
func compare(t *testing.T, m *Model, ref *nn.Model, x []float32, n int) (maxDiff float64, agree int) {
	t.Helper()
	out := make([]float32, n*m.OutputSize())
	if err := m.PredictBatch(x, n, out); err != nil {
		t.Fatal(err)
	}
	k := m.OutputSize()
	err := nn.Predict(ref, x, n, 256, func(i int, want []float32) {
		got := out[i*k : (i+1)*k]
		for j := range want {
			maxDiff = max(maxDiff, math.Abs(float64(got[j]-want[j])))
		}
		if Argmax(got) == Argmax(want) {
			agree++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return maxDiff, agree
}

// TestLenet300MatchesDense is acceptance criterion 1: the same argmax as
// the dense engine on the decoded weights, logits within 1e-4, for
// LeNet-300-100 compressed by the pipeline (the example's model) and the
// trained one pruned to 8% with 6-bit sharing without retraining. It runs
// the first 1,000 test images, all 10,000 with -infer.full.
func TestLenet300MatchesDense(t *testing.T) {
	n := 1000
	if *full {
		n = 10000
	}
	x, labels := testImages(t, n)
	n = len(labels)
	pipeline, err := os.ReadFile(pipelineLenet300)
	if err != nil {
		t.Fatal(err)
	}
	_, trained := compressedLenet300(t)
	files := map[string][]byte{"pipeline": pipeline, "8% kept, no retraining": trained}
	for name, file := range files {
		dm, err := dcz.Read(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		ref := reference(t, dm)
		maxDiff, agree := compare(t, m, ref, x, n)
		if agree != n || maxDiff > maxLogitDiff {
			t.Fatalf("%s, %d images: argmax agrees on %d, largest logit difference %.3g (want all, <= %g)", name, n, agree, maxDiff, maxLogitDiff)
		}
		// Batch 1 takes the other kernel.
		correct := 0
		for i := range n {
			got, err := m.Predict(x[i*784 : (i+1)*784])
			if err != nil {
				t.Fatal(err)
			}
			if Argmax(got) == int(labels[i]) {
				correct++
			}
			if i < 200 {
				want := ref.Forward(x[i*784:(i+1)*784], 1, false).Data
				for j := range want {
					if d := math.Abs(float64(got[j] - want[j])); d > maxLogitDiff {
						t.Fatalf("%s, image %d, batch 1: logit %d differs by %.3g", name, i, j, d)
					}
				}
			}
		}
		t.Logf("%s: %d images, argmax agrees on all, largest logit difference %.3g; top-1 %d/%d", name, n, maxDiff, correct, n)
	}
}

// variety is a network with every layer kind and geometry the engine
// handles: padding, strides, both pools, dropout, a layer without bias,
// a standalone ReLU and a final softmax.
func variety() arch.Spec {
	return arch.Spec{Name: "variety", Input: []int{2, 11, 9}, Layers: []arch.Layer{
		{Kind: arch.Conv2D, Name: "c1", Out: 6, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
		{Kind: arch.ReLU},
		{Kind: arch.MaxPool, Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Pad: [2]int{1, 0}},
		{Kind: arch.Conv2D, Name: "c2", Out: 5, Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}, NoBias: true},
		{Kind: arch.AvgPool, Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Pad: [2]int{1, 1}},
		{Kind: arch.ReLU},
		{Kind: arch.Flatten},
		{Kind: arch.Dropout, Rate: 0.5},
		{Kind: arch.Dense, Name: "f1", Out: 300},
		{Kind: arch.Dropout, Rate: 0.5},
		{Kind: arch.ReLU},
		{Kind: arch.Dense, Name: "f2", Out: 7, NoBias: true},
		{Kind: arch.Softmax},
	}}
}

func TestMatchesDense(t *testing.T) {
	cases := []struct {
		spec arch.Spec
		keep float64
		bits int
	}{
		{arch.LeNet300(), 0.08, 6},
		{arch.LeNet300(), 0.02, 2}, // fillers in fc1 rows
		{arch.LeNet5(), 0.2, 5},
		{arch.LeNet5(), 0.5, 8}, // 256 entries: the wide form
		{variety(), 0.3, 4},
		{variety(), 1, 10},
	}
	for _, tc := range cases {
		dm := randomCompressed(t, tc.spec, 3, tc.keep, tc.bits)
		m, err := FromDCZ(dm)
		if err != nil {
			t.Fatal(err)
		}
		ref := reference(t, dm)
		for _, n := range []int{1, 3, 130} {
			t.Run(fmt.Sprintf("%s/keep=%v/bits=%d/n=%d", tc.spec.Name, tc.keep, tc.bits, n), func(t *testing.T) {
				x := randomInputs(uint64(n), n*m.InputSize())
				maxDiff, agree := compare(t, m, ref, x, n)
				if agree != n || maxDiff > maxLogitDiff {
					t.Fatalf("argmax agrees on %d of %d, largest difference %.3g", agree, n, maxDiff)
				}
			})
		}
	}
}

func TestInputSizeErrors(t *testing.T) {
	m, err := FromDCZ(randomCompressed(t, arch.LeNet300(), 1, 0.1, 4))
	if err != nil {
		t.Fatal(err)
	}
	var ise *InputSizeError
	if _, err := m.Predict(make([]float32, 783)); !errors.As(err, &ise) || ise.Got != 783 || ise.Want != 784 {
		t.Errorf("Predict(783 values) = %v, want an InputSizeError 783/784", err)
	}
	if _, err := m.Predict(nil); !errors.As(err, &ise) {
		t.Errorf("Predict(nil) = %v, want an InputSizeError", err)
	}
	if err := m.PredictBatch(make([]float32, 784*2), 3, make([]float32, 30)); !errors.As(err, &ise) || ise.Want != 3*784 {
		t.Errorf("PredictBatch(2 samples as 3) = %v, want an InputSizeError", err)
	}
	if err := m.PredictBatch(make([]float32, 784*2), 2, make([]float32, 19)); err == nil {
		t.Error("PredictBatch with a short output buffer succeeded")
	}
	if err := m.PredictBatch(nil, -1, nil); err == nil {
		t.Error("PredictBatch(-1 samples) succeeded")
	}
	if err := m.PredictBatch(nil, 0, nil); err != nil {
		t.Errorf("PredictBatch(0 samples) = %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	good := randomCompressed(t, arch.LeNet300(), 1, 0.1, 4)
	edit := func(f func(m *dcz.Model)) *dcz.Model {
		m := &dcz.Model{Spec: good.Spec}
		for _, l := range good.Layers {
			l.Shape = append([]int(nil), l.Shape...)
			l.Idx = append([]uint16(nil), l.Idx...)
			m.Layers = append(m.Layers, l)
		}
		m.Raw = append(m.Raw, good.Raw...)
		f(m)
		return m
	}
	cases := []struct {
		name string
		m    *dcz.Model
		want string
	}{
		{"missing bias", edit(func(m *dcz.Model) { m.Raw = m.Raw[1:] }), "missing"},
		{"missing weight", edit(func(m *dcz.Model) { m.Layers = m.Layers[1:] }), "missing"},
		{"twice", edit(func(m *dcz.Model) { m.Layers = append(m.Layers, m.Layers[0]) }), "twice"},
		{"unknown", edit(func(m *dcz.Model) { m.Layers[0].Name = "fc9.weight" }), "not in network"},
		{"shape", edit(func(m *dcz.Model) { m.Layers[0].Shape[1] = 783 }), "shape"},
		{"bias shared", edit(func(m *dcz.Model) {
			m.Layers = append(m.Layers, dcz.Layer{Layer: quantize.Layer{Name: m.Raw[0].Name, Shape: m.Raw[0].Shape, Bits: 1}})
			m.Raw = m.Raw[1:]
		}), "bias"},
		{"index", edit(func(m *dcz.Model) { m.Layers[1].Idx[0] = 99 }), "codebook"},
		{"raw length", edit(func(m *dcz.Model) { m.Raw[0].Data = m.Raw[0].Data[1:] }), "values"},
	}
	for _, tc := range cases {
		_, err := FromDCZ(tc.m)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestLoad checks that the streaming loader builds the same model as
// FromDCZ, and refuses a damaged file with the dcz package's error.
func TestLoad(t *testing.T) {
	dm := randomCompressed(t, arch.LeNet5(), 2, 0.1, 5)
	var buf bytes.Buffer
	if err := dcz.Write(&buf, dm); err != nil {
		t.Fatal(err)
	}
	a, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromDCZ(dm)
	if err != nil {
		t.Fatal(err)
	}
	x := randomInputs(5, 4*a.InputSize())
	ya, yb := make([]float32, 40), make([]float32, 40)
	if err := a.PredictBatch(x, 4, ya); err != nil {
		t.Fatal(err)
	}
	if err := b.PredictBatch(x, 4, yb); err != nil {
		t.Fatal(err)
	}
	if !equalFloats(ya, yb) {
		t.Fatal("Load and FromDCZ give different outputs")
	}
	bad := bytes.Clone(buf.Bytes())
	bad[len(bad)/2] ^= 0x40
	if _, err := Load(bytes.NewReader(bad)); !errors.Is(err, dcz.ErrFormat) {
		t.Errorf("Load(damaged file) = %v, want a dcz.ErrFormat", err)
	}
	if _, err := Load(bytes.NewReader(buf.Bytes()[:buf.Len()-3])); err == nil {
		t.Error("Load(truncated file) succeeded")
	}
}

// pipelineLenet300 is LeNet-300-100 compressed by the project's pipeline
// (pruned to 6/9/26% with retraining, 6-bit shared weights, 98.50% top-1),
// the model the example program embeds.
const pipelineLenet300 = "../examples/embed/lenet300.dcz"

// TestMemory is acceptance criterion 3: the loaded LeNet-300-100 holds at
// most twice its .dcz size on the heap. It checks the heap growth measured
// around Load and the bytes of the model's arrays counted one by one, and
// requires both to be within bounds.
func TestMemory(t *testing.T) {
	_, generated := compressedLenet300(t)
	files := map[string][]byte{"8% kept, no retraining": generated}
	if data, err := os.ReadFile(pipelineLenet300); err == nil {
		files["pipeline"] = data
	} else {
		t.Logf("pipeline model: %v", err)
	}
	for name, file := range files {
		// A first load lets the runtime set up what it keeps for good
		// (GC worker threads, JSON type caches), which is not the model's.
		if _, err := Load(bytes.NewReader(file)); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		// Two collections: the first moves sync.Pool contents to the
		// victim cache, the second frees them.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := Load(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		growth := int(int64(after.HeapAlloc) - int64(before.HeapAlloc))
		held := m.heldBytes()
		runtime.KeepAlive(m)
		t.Logf("%s: .dcz %d bytes; heap growth after loading %d bytes (%.2fx); arrays %d bytes (%.2fx)",
			name, len(file), growth, float64(growth)/float64(len(file)), held, float64(held)/float64(len(file)))
		if max(growth, held) > 2*len(file) {
			t.Errorf("%s: loaded model takes %d heap bytes (arrays %d), more than twice its %d-byte file", name, growth, held, len(file))
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m, err := FromDCZ(randomCompressed(t, arch.LeNet5(), 1, 0.1, 5))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 8, 64} {
		x := randomInputs(1, n*m.InputSize())
		out := make([]float32, n*m.OutputSize())
		allocs := testing.AllocsPerRun(20, func() {
			if err := m.PredictBatch(x, n, out); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 0 {
			t.Errorf("PredictBatch of %d: %v allocations per call", n, allocs)
		}
	}
	// AllocsPerRun measures with GOMAXPROCS 1, where no product is split:
	// count again with fc1's rows split among the shared pool's workers.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 64
	x := randomInputs(1, n*m.InputSize())
	out := make([]float32, n*m.OutputSize())
	for range 50 { // until the scratch pool has settled on the new procs
		m.PredictBatch(x, n, out)
	}
	// No collection meanwhile: one would empty the scratch pool.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		m.PredictBatch(x, n, out)
	}
	runtime.ReadMemStats(&after)
	// The runtime allocates now and then on its own (a waiter's queue
	// entry, a pool's chain link, a scratch lost when the procs changed):
	// anything allocated per call would come to 100 or more.
	if got := after.Mallocs - before.Mallocs; got >= 50 {
		t.Errorf("PredictBatch of %d on 4 procs: %d allocations in 100 calls", n, got)
	}
}

// TestConcurrent runs predictions on several goroutines at once (run it
// with -race) and checks they give the sequential results.
func TestConcurrent(t *testing.T) {
	m, err := FromDCZ(randomCompressed(t, arch.LeNet5(), 4, 0.1, 5))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	x := randomInputs(9, n*m.InputSize())
	want := make([]float32, n*10)
	if err := m.PredictBatch(x, n, want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				got, err := m.Predict(x[i*784 : (i+1)*784])
				if err != nil {
					t.Error(err)
					return
				}
				for j := range got {
					if math.Abs(float64(got[j]-want[i*10+j])) > 1e-5 {
						t.Errorf("sample %d: concurrent result differs", i)
						return
					}
				}
			}
			out := make([]float32, n*10)
			if err := m.PredictBatch(x, n, out); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
