package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/dataset"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/modelfile"
)

// predictsOnGraph tells whether predict runs path on the graph engine: an
// ONNX model, or a .dcz that carries a whole graph (what `compress --data`
// and `compress --data-free` write for ONNX models). Layer chains keep the
// compressed in-memory engine.
func predictsOnGraph(path string) (bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		return true, nil
	case ".dcz":
		f, err := os.Open(path)
		if err != nil {
			return false, err
		}
		defer f.Close()
		d, err := dcz.NewDecoder(f)
		if err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		return d.Graph() != nil, nil
	}
	return false, nil
}

// runGraph classifies the images with the graph engine. The input comes
// from the preprocessing stored in the file (compress --data keeps it);
// without one, from the model's declared input shape with --normalize's
// mean and std, as for the layer chains.
func (o *predictOptions) runGraph(cmd *cobra.Command) error {
	g, pre, err := loadGraphAndPreprocess(o.model)
	if err != nil {
		return err
	}
	if len(g.Inputs) != 1 || len(g.Outputs) < 1 {
		return fmt.Errorf("predict: %s has %d inputs and %d outputs; predict takes one image input (use deepcompress run for others)", o.model, len(g.Inputs), len(g.Outputs))
	}
	if pre == nil {
		p, err := o.defaultPreprocess(g.Inputs[0])
		if err != nil {
			return err
		}
		pre = &p
	}
	if err := pre.Validate(); err != nil {
		return fmt.Errorf("predict: %s: %w", o.model, err)
	}
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", o.model, err)
	}
	shape := append([]int{1}, pre.SampleShape()...)
	out := newPredictionWriter(cmd, o.asJSON)
	for _, path := range o.images {
		x, err := readImageWith(path, *pre)
		if err != nil {
			return err
		}
		res, err := m.Run(map[string]*graph.Tensor{g.Inputs[0].Name: {Shape: shape, DType: graph.Float32, F: x}})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		logits := res[g.Outputs[0].Name]
		if logits == nil || logits.DType != graph.Float32 || len(logits.F) == 0 {
			return fmt.Errorf("predict: %s: output %q is not a float32 score vector", o.model, g.Outputs[0].Name)
		}
		if err := out.write(path, logits.F); err != nil {
			return err
		}
	}
	return nil
}

// loadGraphAndPreprocess loads the graph and, from a .dcz, the stored
// preprocessing (nil when there is none).
func loadGraphAndPreprocess(path string) (*graph.Graph, *dataset.Preprocess, error) {
	if !strings.EqualFold(filepath.Ext(path), ".dcz") {
		g, err := modelfile.LoadGraph(path, modelfile.Options{})
		return g, nil, err
	}
	f, err := dcz.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if f.Graph == nil {
		return nil, nil, errors.New("predict: " + path + " holds no graph")
	}
	g, err := f.WithWeights()
	if err != nil {
		return nil, nil, err
	}
	if len(f.Preprocess) == 0 {
		return g, nil, nil
	}
	p, err := dataset.ParsePreprocess(f.Preprocess)
	if err != nil {
		return nil, nil, fmt.Errorf("predict: %s: stored preprocessing: %w", path, err)
	}
	return g, &p, nil
}

// defaultPreprocess derives the input from the model's declared shape
// (dataset.DefaultFor) with --normalize's mean and std.
func (o *predictOptions) defaultPreprocess(in graph.Value) (dataset.Preprocess, error) {
	mean, std, err := o.data.meanStd()
	if err != nil {
		return dataset.Preprocess{}, err
	}
	dims := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		dims[i] = d.Size
	}
	p := dataset.DefaultFor(dims)
	p.Mean, p.Std = []float32{mean}, []float32{std}
	return p, nil
}

// readImageWith decodes an image (its canvas checked before decoding)
// and preprocesses it.
func readImageWith(path string, p dataset.Preprocess) ([]float32, error) {
	img, err := decodeImageFile(path)
	if err != nil {
		return nil, err
	}
	x, err := p.Apply(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}
