package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/npy"
	"github.com/deepcompress/deepcompress/onnx"
)

// runRandomInput writes n random samples of the model's input shape to
// dir/x.npy and returns the path and the data.
func runRandomInput(t *testing.T, dir string, m *nn.Model, n int) (string, []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*m.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	path := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(path, append([]int{n}, m.Spec.Input...), x); err != nil {
		t.Fatal(err)
	}
	return path, x
}

// runCompare checks the command's output file against nn's forward pass.
func runCompare(t *testing.T, res runResult, m *nn.Model, x []float32, n int) {
	t.Helper()
	if len(res.Outputs) != 1 || res.Outputs[0].Name != graph.SpecOutput {
		t.Fatalf("outputs %+v", res.Outputs)
	}
	shape, got, err := npy.ReadFloat32File(res.Outputs[0].File)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Forward(x, n, false)
	if !slices.Equal(shape, want.Shape) || !slices.Equal(res.Outputs[0].Shape, want.Shape) {
		t.Fatalf("shape %v (reported %v), nn gives %v", shape, res.Outputs[0].Shape, want.Shape)
	}
	for i, w := range want.Data {
		if d := math.Abs(float64(got[i] - w)); d > 1e-4*(1+math.Abs(float64(w))) {
			t.Fatalf("output %d: %v, nn gives %v", i, got[i], w)
		}
	}
}

func runJSON(t *testing.T, args ...string) runResult {
	t.Helper()
	out, err := run(t, append([]string{"run", "--json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var res runResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	return res
}

// TestRunLeNet5 runs a LeNet-5 checkpoint (Conv, MaxPool, Flatten, Gemm,
// Relu) through the engine and compares with nn.
func TestRunLeNet5(t *testing.T) {
	m, err := nn.New(arch.LeNet5(), 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "lenet5.safetensors")
	if err := modelfile.SaveCheckpoint(ckpt, m, nil); err != nil {
		t.Fatal(err)
	}
	in, x := runRandomInput(t, dir, m, 3)
	out := filepath.Join(dir, "out")
	res := runJSON(t, "--model", ckpt, "--input", in, "--out", out)
	runCompare(t, res, m, x, 3)
	if want := filepath.Join(out, "logits.npy"); res.Outputs[0].File != want {
		t.Errorf("file %s, want %s", res.Outputs[0].File, want)
	}

	// The same through ONNX, with the input named.
	weights := map[string][]float32{}
	for _, p := range m.Params() {
		weights[p.Name] = p.Data
	}
	onnxPath := filepath.Join(dir, "lenet5.onnx")
	if err := onnx.ExportFile(onnxPath, m.Spec, weights); err != nil {
		t.Fatal(err)
	}
	res = runJSON(t, "--model", onnxPath, "--input", "input="+in, "--out", out, "--repeat", "2")
	runCompare(t, res, m, x, 3)
	if res.SecondsPerRun <= 0 {
		t.Errorf("--repeat 2 reports no time: %+v", res)
	}
}

// TestRunDCZ runs the embedded compressed LeNet-300-100.
func TestRunDCZ(t *testing.T) {
	m, err := modelfile.Load(embedded, modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, x := runRandomInput(t, dir, m, 2)
	res := runJSON(t, "--model", embedded, "--input", in, "--out", filepath.Join(dir, "out"))
	runCompare(t, res, m, x, 2)

	txt, err := run(t, "run", "--model", embedded, "--input", in, "--out", filepath.Join(dir, "out"))
	if err != nil || !strings.HasPrefix(txt, "logits [2 10] float32 -> ") {
		t.Errorf("text output %q, %v", txt, err)
	}
}

func TestRunInputShape(t *testing.T) {
	for _, arg := range []string{"5,1,28,28", "input=5,1,28,28"} {
		res := runJSON(t, "--model", embedded, "--input-shape", arg)
		if len(res.Outputs) != 1 || !slices.Equal(res.Outputs[0].Shape, []int{5, 10}) || res.Outputs[0].File != "" {
			t.Errorf("%s: %+v", arg, res.Outputs)
		}
	}
}

// runTwoInputGraph writes an ONNX graph y = a + b with a: [batch, 3] and
// b: [batch, 3], and a graph with an operator nobody implements.
func runTwoInputGraph(t *testing.T, dir string) (add, unknown string) {
	t.Helper()
	dims := []graph.Dim{{Size: -1, Param: "batch"}, {Size: 3}}
	g := &graph.Graph{
		Name: "add", Opset: 13,
		Inputs:  []graph.Value{{Name: "a", Shape: dims}, {Name: "b", Shape: dims}},
		Outputs: []graph.Value{{Name: "../y/sum", Shape: dims}},
		Nodes:   []graph.Node{{Name: "add", Op: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"../y/sum"}}},
		Params:  map[string]*graph.Tensor{},
		Meta:    graph.Meta{IRVersion: 8},
	}
	add = filepath.Join(dir, "add.onnx")
	if err := onnx.ExportGraphFile(add, g); err != nil {
		t.Fatal(err)
	}
	g.Nodes[0].Op = "FrobnicateV9"
	unknown = filepath.Join(dir, "unknown.onnx")
	if err := onnx.ExportGraphFile(unknown, g); err != nil {
		t.Fatal(err)
	}
	return add, unknown
}

func TestRunTwoInputs(t *testing.T) {
	dir := t.TempDir()
	add, _ := runTwoInputGraph(t, dir)
	a, b := filepath.Join(dir, "a.npy"), filepath.Join(dir, "b.npy")
	npy.WriteFile(a, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	npy.WriteFile(b, []int{2, 3}, []float32{10, 20, 30, 40, 50, 60})
	out := filepath.Join(dir, "out")
	res := runJSON(t, "--model", add, "--input", "a="+a, "--input", "b="+b, "--out", out)
	if len(res.Outputs) != 1 {
		t.Fatalf("%+v", res)
	}
	// The output's name is a path: its file stays inside out/.
	if f := res.Outputs[0].File; filepath.Dir(f) != out || filepath.Base(f) != "_._y_sum.npy" {
		t.Errorf("output written to %s", f)
	}
	_, y, err := npy.ReadFloat32File(res.Outputs[0].File)
	if err != nil || !slices.Equal(y, []float32{11, 22, 33, 44, 55, 66}) {
		t.Errorf("y = %v, %v", y, err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("out/ holds %d files", len(entries))
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	add, unknown := runTwoInputGraph(t, dir)
	a := filepath.Join(dir, "a.npy")
	npy.WriteFile(a, []int{2, 3}, make([]float32, 6))
	wrong := filepath.Join(dir, "wrong.npy")
	npy.WriteFile(wrong, []int{2, 4}, make([]float32, 8))
	b1 := filepath.Join(dir, "b1.npy")
	npy.WriteFile(b1, []int{1, 3}, make([]float32, 3))
	bad := filepath.Join(dir, "bad.npy")
	os.WriteFile(bad, []byte("\x93NUMPY\x01\x00\x04\x00{}\n"), 0o644)
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", add, "--input", "a=" + a, "--out", out}, "no --input for input b [batch,3]"},
		{[]string{"--model", add, "--input", a, "--out", out}, "name the input"},
		{[]string{"--model", add, "--input", "a=" + a, "--input", "b=" + wrong, "--out", out}, "gives shape [2 4], the graph declares [batch,3]"},
		{[]string{"--model", add, "--input", "a=" + a, "--input", "b=" + b1, "--out", out}, "batch"},
		{[]string{"--model", add, "--input", "a=" + a, "--input", "a=" + a, "--out", out}, "given twice"},
		{[]string{"--model", add, "--input", "a=" + a, "--input", "b=" + bad, "--out", out}, "npy: invalid format at byte"},
		{[]string{"--model", add, "--input", "a=" + a, "--input", "b=" + filepath.Join(dir, "none.npy"), "--out", out}, "no such file"},
		{[]string{"--model", add, "--input", "a=" + a, "--input", "b=" + a}, "--out DIR is required"},
		{[]string{"--model", add}, "no inputs"},
		{[]string{"--model", add, "--input-shape", "a=2,3", "--input-shape", "b=2,x"}, "not a non-negative integer"},
		{[]string{"--model", add, "--input-shape", "a=2,3", "--input-shape", "b=2,4"}, "the graph declares [batch,3]"},
		{[]string{"--model", add, "--input-shape", "a=2,3", "--input", "b=" + a}, "[input input-shape] were all set"},
		{[]string{"--model", unknown, "--input-shape", "a=2,3", "--input-shape", "b=2,3"}, "FrobnicateV9 is not supported"},
		{[]string{"--model", filepath.Join(dir, "m.pt"), "--input", a, "--out", out}, "unknown model format"},
	} {
		_, err := run(t, append([]string{"run"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %s: %v, want an error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run created the output directory")
	}
}

func TestOutputFileName(t *testing.T) {
	used := map[string]bool{}
	for _, c := range []struct{ name, want string }{
		{"logits", "logits.npy"},
		{"Logits", "Logits_2.npy"}, // differs only in case
		{"../../etc/passwd", "_._.._etc_passwd.npy"},
		{"..", "_..npy"},
		{"", "output.npy"},
		{"a/b:c\\d\x00", "a_b_c_d_.npy"},
		{"a/b", "a_b.npy"},
		{"a?b", "a_b_2.npy"},
		{strings.Repeat("x", 300), strings.Repeat("x", maxFileStem) + ".npy"},
	} {
		got := outputFileName(c.name, used)
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.name, got, c.want)
		}
		if p := filepath.Join("out", got); filepath.Dir(p) != "out" {
			t.Errorf("%q escapes the directory: %s", c.name, p)
		}
	}
}
