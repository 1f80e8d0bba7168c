// Command zoocompress is issue 15's acceptance run: it compresses a zoo
// model (testdata/zoo) with 5,000 unlabelled training images as the
// user's data, then measures the original and the compressed file on the
// 10,000 test images with labels (classifiers: accuracy; the U-Net: the
// relative error of its output map against the original's), and prints
// one JSON line. bench/zoo_compress.sh runs it for every model.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/npy"
	"github.com/deepcompress/deepcompress/onnx"
	"github.com/deepcompress/deepcompress/pipeline"
)

func main() {
	model := flag.String("model", "testdata/zoo/resnet_op17.onnx", "ONNX model")
	train := flag.String("train", "bench/zoo/data/mnist_train5k_x.npy", "the user's inputs (.npy, float32, preprocessed)")
	testX := flag.String("test-x", "bench/zoo/data/mnist_test_x.npy", "test inputs")
	testY := flag.String("test-y", "bench/zoo/data/mnist_test_y.npy", "test labels (empty for a map model)")
	out := flag.String("out", "/tmp/zoo.dcz", "compressed file")
	config := flag.String("config", "", "JSON GraphConfig overriding the defaults")
	maxDrop := flag.Float64("max-drop", 0, "search the settings: held-out points of agreement (or relative error) the file may lose")
	ratio := flag.Float64("target-ratio", 0, "search the settings: whole-file ratio against the float32 weights")
	saveConfig := flag.String("save-config", "", "with a search: write the chosen settings here (a GraphConfig)")
	search := pipeline.DefaultGraphSearch()
	flag.IntVar(&search.Retries, "retries", search.Retries, "with a search: full runs after the first")
	flag.IntVar(&search.RetrainSamples, "retrain-samples", search.RetrainSamples, "with a search: training samples of each candidate's brief retraining")
	flag.Float64Var(&search.Slack, "slack", search.Slack, "with -max-drop: the first full run is of the smallest candidate within slack times the bound after the brief retraining")
	flag.Parse()
	search.MaxDrop, search.TargetRatio = *maxDrop, *ratio
	if err := run(*model, *train, *testX, *testY, *out, *config, search, *saveConfig); err != nil {
		fmt.Fprintln(os.Stderr, "zoocompress:", err)
		os.Exit(1)
	}
}

// run compresses (searching the settings when the search has a goal) and
// measures.
func run(modelPath, trainPath, testXPath, testYPath, out, configPath string, search pipeline.GraphSearch, saveConfig string) error {
	g, err := onnx.ImportGraphFile(modelPath)
	if err != nil {
		return err
	}
	shape, x, err := npy.ReadFloat32File(trainPath)
	if err != nil {
		return err
	}
	cfg := pipeline.DefaultGraphConfig()
	if configPath != "" {
		if cfg, err = pipeline.LoadGraphConfig(configPath); err != nil {
			return err
		}
	}
	c := &pipeline.GraphCompressor{Config: cfg, Log: os.Stderr}
	start := time.Now()
	samples := pipeline.Samples{X: x, Shape: shape[1:]}
	var res *pipeline.GraphResult
	if search.MaxDrop > 0 || search.TargetRatio > 0 {
		res, err = c.SearchGraph(context.Background(), g, samples, out, search)
	} else {
		res, err = c.CompressGraph(context.Background(), g, samples, out)
	}
	if err != nil {
		return err
	}
	if saveConfig != "" {
		if err := pipeline.WriteGraphConfig(saveConfig, res.Config); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	info, err := os.Stat(out)
	if err != nil {
		return err
	}
	file, err := dcz.ReadFile(out)
	if err != nil {
		return err
	}
	small, err := file.WithWeights()
	if err != nil {
		return err
	}
	tshape, tx, err := npy.ReadFloat32File(testXPath)
	if err != nil {
		return err
	}
	orig, err := outputsOf(g, tshape, tx)
	if err != nil {
		return err
	}
	comp, err := outputsOf(small, tshape, tx)
	if err != nil {
		return err
	}
	r := map[string]any{"model": modelPath, "seconds": elapsed.Seconds(), "file_bytes": info.Size(),
		"float_bytes": res.Stages[0].Bytes, "ratio": float64(res.Stages[0].Bytes) / float64(info.Size()),
		"keep": res.Keep, "conv_bits": res.Config.ConvBits, "fc_bits": res.Config.FCBits}
	if res.Search != nil {
		r["search"] = res.Search
		fmt.Fprint(os.Stderr, pipeline.GraphSearchTable(res.Search).Text())
	}
	if testYPath != "" {
		_, labels, err := npy.ReadInt64(mustOpen(testYPath))
		if err != nil {
			return err
		}
		k := len(orig) / tshape[0]
		r["accuracy_original"] = accuracy(orig, labels, k)
		r["accuracy_compressed"] = accuracy(comp, labels, k)
		r["agreement"] = agreement(orig, comp, k)
	} else {
		r["relative_error"] = relError(comp, orig)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func mustOpen(p string) *os.File {
	f, err := os.Open(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return f
}

func outputsOf(g *graph.Graph, shape []int, x []float32) ([]float32, error) {
	m, err := nn.FromGraph(g, shape[1:], 1)
	if err != nil {
		return nil, err
	}
	n := shape[0]
	k := m.OutputSize()
	out := make([]float32, n*k)
	err = nn.Predict(m, x, n, 100, func(i int, o []float32) { copy(out[i*k:], o) })
	return out, err
}

func accuracy(out []float32, labels []int64, k int) float64 {
	c := 0
	for i, l := range labels {
		if nn.Argmax(out[i*k:(i+1)*k]) == int(l) {
			c++
		}
	}
	return float64(c) / float64(len(labels))
}

func agreement(a, b []float32, k int) float64 {
	c := 0
	for i := 0; i < len(a)/k; i++ {
		if nn.Argmax(a[i*k:(i+1)*k]) == nn.Argmax(b[i*k:(i+1)*k]) {
			c++
		}
	}
	return float64(c) / float64(len(a)/k)
}

func relError(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		e := float64(a[i] - b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d / n)
}
