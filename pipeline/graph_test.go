package pipeline

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/settings"
)

// tinyGraph is a trained-looking classifier: a small MLP as a graph.
func tinyGraph(t *testing.T) *graph.Graph {
	t.Helper()
	spec := arch.Spec{Name: "tiny", Input: []int{1, 8, 8}, Layers: []arch.Layer{
		{Kind: arch.Flatten}, {Kind: arch.Dense, Name: "fc1", Out: 64}, {Kind: arch.ReLU}, {Kind: arch.Dense, Name: "fc2", Out: 4}}}
	m, err := nn.New(spec, 7)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.FromSpec(spec, m.WeightMap())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCompressGraphWithoutLabels(t *testing.T) {
	g := tinyGraph(t)
	rng := rand.New(rand.NewPCG(1, 2))
	data := Samples{X: make([]float32, 400*64), Shape: []int{1, 8, 8}}
	for i := range data.X {
		data.X[i] = rng.Float32()
	}
	cfg := DefaultGraphConfig()
	cfg.Prune.Epochs, cfg.FineTune.Epochs = 2, 1
	cfg.MinPrunable = 100
	cfg.Tolerance = 30 // a random classifier has small margins
	c := &GraphCompressor{Config: cfg, Ancillary: dcz.Ancillary{Meta: map[string]string{"source": "tiny"}}}
	out := filepath.Join(t.TempDir(), "tiny.dcz")
	res, err := c.CompressGraph(context.Background(), g, data, out)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Classifier || len(res.Stages) != 4 {
		t.Fatalf("classifier %v, %d stages", res.Classifier, len(res.Stages))
	}
	last := res.Stages[len(res.Stages)-1]
	if !last.Measured || last.Ratio < 4 || last.Fidelity.Agreement < 0.5 || last.Fidelity.Accuracy != -1 {
		t.Fatalf("file stage: %+v", last)
	}
	f, err := dcz.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Graph == nil || f.Meta["source"] != "tiny" || f.Meta["held_out_agreement"] == "" {
		t.Fatalf("graph %v, meta %v", f.Graph != nil, f.Meta)
	}
	// The weights are shared as dense layers with the paper's gap width;
	// the biases stay raw.
	if len(f.Layers) != 2 || len(f.Raw) != 2 {
		t.Fatalf("%d shared layers, %d raw tensors; want 2 and 2", len(f.Layers), len(f.Raw))
	}
	for _, l := range f.Layers {
		if l.Kind != arch.Dense || l.IndexBits != settings.PaperBits(arch.Dense) {
			t.Errorf("%s: kind %v, index bits %d; want dense, %d", l.Name, l.Kind, l.IndexBits, settings.PaperBits(arch.Dense))
		}
	}
	if k := res.Keep["fc1.weight"]; !(k > 0 && k < 1) {
		t.Errorf("fc1 keeps %v: the sensitivity pass pruned nothing", k)
	}
	if g.Params["fc1.weight"].F[0] == 0 && g.Params["fc1.weight"].F[1] == 0 {
		t.Error("the original graph was pruned in place")
	}
	if tab := GraphStageTable(res); len(tab.Rows) != 4 || tab.Rows[3][0] != "huffman" {
		t.Errorf("stage table %v", tab.Rows)
	}
}

func TestCompressGraphRejectsBadConfig(t *testing.T) {
	cfg := DefaultGraphConfig()
	cfg.HeldOut = 1.5
	c := &GraphCompressor{Config: cfg}
	if _, err := c.CompressGraph(context.Background(), tinyGraph(t), Samples{X: make([]float32, 64*4), Shape: []int{1, 8, 8}}, ""); err == nil {
		t.Fatal("held_out 1.5 accepted")
	}
}

// TestCompressGraphKeepNames checks that Keep names weights as everywhere
// else (settings.Lookup): a pattern sets every weight it matches, and a
// name that stands for no weight is an error, not a setting ignored.
func TestCompressGraphKeepNames(t *testing.T) {
	data := Samples{X: make([]float32, 40*64), Shape: []int{1, 8, 8}}
	for i := range data.X {
		data.X[i] = float32(i%13) / 13
	}
	cfg := DefaultGraphConfig()
	cfg.Prune.Epochs, cfg.FineTune.Epochs = 1, 0
	cfg.Keep = map[string]float64{"fc*": 0.5, "fc2": 0.25}
	c := &GraphCompressor{Config: cfg}
	res, err := c.CompressGraph(context.Background(), tinyGraph(t), data, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Keep["fc1.weight"] != 0.5 || res.Keep["fc2.weight"] != 0.25 {
		t.Errorf("keep %v: want fc1.weight 0.5 (the pattern), fc2.weight 0.25 (the layer name)", res.Keep)
	}
	c.Config.Keep = map[string]float64{"fc3": 0.5}
	if _, err := c.CompressGraph(context.Background(), tinyGraph(t), data, ""); err == nil || !strings.Contains(err.Error(), "fc3") {
		t.Errorf("keep fc3 (no such layer): error %v", err)
	}
}
