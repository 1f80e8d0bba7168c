package engine_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/npy"
	"github.com/deepcompress/deepcompress/onnx"
)

// zooDir holds the PyTorch exports and torch's outputs on real inputs
// (bench/zoo/make_zoo.py).
const zooDir = "../testdata/zoo"

type zooManifest struct {
	Models map[string]struct {
		Input struct {
			Name string `json:"name"`
		} `json:"input"`
		Output struct {
			Name string `json:"name"`
		} `json:"output"`
		Files struct {
			Input    string `json:"input"`
			Expected string `json:"expected"`
		} `json:"files"`
		Exports map[string]struct {
			File string `json:"file"`
		} `json:"exports"`
	} `json:"models"`
}

func readZoo(t testing.TB) zooManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(zooDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m zooManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) == 0 {
		t.Fatal("the zoo manifest lists no model")
	}
	return m
}

// zooPath maps a manifest path (relative to the repository) into the test.
func zooPath(p string) string { return filepath.Join("..", p) }

func readNpy(t testing.TB, path string) *graph.Tensor {
	t.Helper()
	shape, data, err := npy.ReadFloat32File(path)
	if err != nil {
		t.Fatal(err)
	}
	return graph.NewFloat(shape, data)
}

// relDiff is max|a-b| / max|b|: the error relative to the output's scale.
func relDiff(a, b []float32) (abs, rel float64) {
	scale := 0.0
	for i := range a {
		abs = math.Max(abs, math.Abs(float64(a[i]-b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	return abs, abs / math.Max(scale, 1e-30)
}

// TestZooMatchesTorch runs every exported model of the zoo, at every
// opset, with and without BatchNormalization folding, at the batch of the
// stored inputs and at batch 1, and compares with PyTorch's outputs.
func TestZooMatchesTorch(t *testing.T) {
	zoo := readZoo(t)
	names := make([]string, 0, len(zoo.Models))
	for n := range zoo.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		z := zoo.Models[name]
		x := readNpy(t, zooPath(z.Files.Input))
		want := readNpy(t, zooPath(z.Files.Expected))
		for opset, exp := range z.Exports {
			for _, fold := range []bool{true, false} {
				t.Run(name+"/"+opset+map[bool]string{true: "/folded", false: "/unfolded"}[fold], func(t *testing.T) {
					g, err := onnx.ImportGraphFile(zooPath(exp.File))
					if err != nil {
						t.Fatal(err)
					}
					m, err := engine.New(g, engine.Options{NoFold: !fold})
					if err != nil {
						t.Fatal(err)
					}
					out, err := m.Run(map[string]*graph.Tensor{z.Input.Name: x})
					if err != nil {
						t.Fatal(err)
					}
					got := out[z.Output.Name]
					if got == nil || len(got.F) != len(want.F) {
						t.Fatalf("output %s: got %v, want shape %v", z.Output.Name, got, want.Shape)
					}
					abs, rel := relDiff(got.F, want.F)
					t.Logf("max abs %.3g, relative %.3g", abs, rel)
					if rel > 1e-4 {
						t.Errorf("differs from PyTorch: max abs %.3g, relative %.3g", abs, rel)
					}
					// Batch 1 gives the first sample's row.
					per := len(x.F) / x.Shape[0]
					one := graph.NewFloat(append([]int{1}, x.Shape[1:]...), x.F[:per])
					out, err = m.Run(map[string]*graph.Tensor{z.Input.Name: one})
					if err != nil {
						t.Fatal(err)
					}
					rows := len(want.F) / want.Shape[0]
					if _, rel := relDiff(out[z.Output.Name].F, want.F[:rows]); rel > 1e-4 {
						t.Errorf("batch 1 differs from PyTorch: relative %.3g", rel)
					}
				})
			}
		}
	}
}
