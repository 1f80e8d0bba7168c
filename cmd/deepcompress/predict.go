package main

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG digits are accepted too
	_ "image/png"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/infer"
)

func init() { registry = append(registry, predictCmd) }

// prediction is one line of predict's JSON output.
type prediction struct {
	File  string    `json:"file"`
	Class int       `json:"class"`
	Probs []float32 `json:"probs,omitempty"`
	// Top, for networks of more than maxListed classes, replaces Probs:
	// the most probable classes, best first.
	Top     []classProb `json:"top,omitempty"`
	Classes int         `json:"classes,omitempty"` // set with Top
}

// classProb is one class and its probability.
type classProb struct {
	Class int     `json:"class"`
	Prob  float32 `json:"prob"`
}

// Output stays bounded whatever the network: every probability is listed
// up to maxListed classes, beyond that only the topListed most probable.
const (
	maxListed = 1000
	topListed = 10
)

// newPrediction lists probs in full, or their top classes when there are
// more than maxListed.
func newPrediction(file string, class int, probs []float32) prediction {
	p := prediction{File: file, Class: class}
	if len(probs) <= maxListed {
		p.Probs = probs
		return p
	}
	p.Top, p.Classes = topClasses(probs, topListed), len(probs)
	return p
}

// topClasses is the k most probable classes, best first (lowest index on
// ties), in one pass.
func topClasses(probs []float32, k int) []classProb {
	var top []classProb
	for i, v := range probs {
		if len(top) == k && v <= top[k-1].Prob {
			continue
		}
		j := len(top)
		if j < k {
			top = append(top, classProb{})
		} else {
			j = k - 1
		}
		for ; j > 0 && top[j-1].Prob < v; j-- {
			top[j] = top[j-1]
		}
		top[j] = classProb{Class: i, Prob: v}
	}
	return top
}

// predictOptions are the settings of predict.
type predictOptions struct {
	data   dataFlags
	model  string
	images []string
	asJSON bool
}

func predictCmd() *cobra.Command {
	var o predictOptions
	cmd := &cobra.Command{
		Use:   "predict MODEL IMAGE.png [IMAGE.png ...]",
		Short: "Classify images straight from a compressed model",
		Long: `Load a .dcz into the compressed in-memory engine (codebooks, b-bit indices
and sparse positions, never expanded to dense float32) and classify each
image: grayscale, white digit on black as in MNIST; sizes other than 28x28
are resized. Prints the class and the probability of every class; with
--json, one JSON object per line with file, class and probs.

A .dcz that carries a whole graph (from compress --data or --data-free on
an ONNX model) and an .onnx model run on the graph engine instead; their
input is made by the preprocessing stored in the file, or else from the
model's input shape and --normalize.`,
		Example: "  deepcompress predict lenet300.dcz seven.png three.png",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model, o.images = args[0], args[1:]
			return o.run(cmd)
		},
	}
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "one JSON object per image: file, class, probs")
	o.data.registerNormalize(cmd)
	return cmd
}

func (o *predictOptions) run(cmd *cobra.Command) error {
	isGraph, err := predictsOnGraph(o.model)
	if err != nil {
		return err
	}
	if isGraph {
		return o.runGraph(cmd)
	}
	mean, std, err := o.data.meanStd()
	if err != nil {
		return err
	}
	m, err := infer.LoadFile(o.model)
	if err != nil {
		return err
	}
	out := newPredictionWriter(cmd, o.asJSON)
	for _, path := range o.images {
		x, err := readImage(path, mean, std)
		if err != nil {
			return err
		}
		logits, err := m.Predict(x)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := out.write(path, logits); err != nil {
			return err
		}
	}
	return nil
}

// predictionWriter prints one prediction per image, as text or JSON.
type predictionWriter struct {
	cmd    *cobra.Command
	enc    *json.Encoder
	asJSON bool
	probs  []float32
}

func newPredictionWriter(cmd *cobra.Command, asJSON bool) *predictionWriter {
	return &predictionWriter{cmd: cmd, enc: json.NewEncoder(cmd.OutOrStdout()), asJSON: asJSON}
}

// write turns the scores into probabilities and prints the prediction.
func (w *predictionWriter) write(path string, logits []float32) error {
	w.probs = append(w.probs[:0], make([]float32, len(logits))...)
	infer.Softmax(w.probs, logits)
	p := newPrediction(path, infer.Argmax(logits), w.probs)
	if w.asJSON {
		return w.enc.Encode(p)
	}
	_, err := fmt.Fprintf(w.cmd.OutOrStdout(), "%s: %d (%.1f%%)  %s\n", path, p.Class, 100*w.probs[p.Class], formatProbs(p))
	return err
}

func readImage(path string, mean, std float32) ([]float32, error) {
	img, err := decodeImageFile(path)
	if err != nil {
		return nil, err
	}
	x, err := infer.ImageInput(img, mean, std)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// decodeImageFile decodes the image at path, its canvas checked before
// decoding.
func decodeImageFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := infer.DecodeImage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// formatProbs writes class:probability pairs: all of them, or the top
// ones and the number of classes.
func formatProbs(p prediction) string {
	var parts []string
	for i, v := range p.Probs {
		parts = append(parts, fmt.Sprintf("%d:%.3f", i, v))
	}
	for _, t := range p.Top {
		parts = append(parts, fmt.Sprintf("%d:%.3f", t.Class, t.Prob))
	}
	if p.Top != nil {
		parts = append(parts, fmt.Sprintf("(the %d most probable of %d classes)", len(p.Top), p.Classes))
	}
	return strings.Join(parts, " ")
}
