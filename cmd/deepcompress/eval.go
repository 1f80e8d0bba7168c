package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/nn"
)

func init() { registry = append(registry, evalCmd) }

// evalResult is the JSON form of eval's output.
type evalResult struct {
	Model    string  `json:"model"`
	Correct  int     `json:"correct"`
	Total    int     `json:"total"`
	Accuracy float64 `json:"accuracy"`
	Error    float64 `json:"error"`
}

// evalOptions are the settings of eval.
type evalOptions struct {
	data        dataFlags
	model       modelFlags
	asJSON      bool
	predictions string
}

func evalCmd() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval --model FILE",
		Short: "Count correct top-1 predictions on the 10,000 MNIST test images",
		Long: `Evaluate a model (.safetensors checkpoint, .onnx graph or compressed .dcz
file) on the MNIST test set and print the exact number of correct top-1
predictions. Safetensors files without recorded architecture need --arch.`,
		Example: "  deepcompress eval --model lenet300.dcz\n  deepcompress eval --model ../shared/models/lenet300.safetensors --arch lenet300 --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.model.register(cmd, "model file: .safetensors, .onnx or .dcz")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON object with correct, total, accuracy")
	cmd.Flags().StringVar(&o.predictions, "predictions", "", "also write the predicted class of every test image, one per line, to this file")
	o.data.register(cmd)
	return cmd
}

func (o *evalOptions) run(cmd *cobra.Command) error {
	m, test, correct, err := loadAndScore(o.model.path, o.model.arch, &o.data)
	if err != nil {
		return err
	}
	if o.predictions != "" {
		if err := writePredictions(o.predictions, m, test); err != nil {
			return err
		}
	}
	r := evalResult{Model: o.model.path, Correct: correct, Total: test.Len(), Accuracy: float64(correct) / float64(test.Len())}
	r.Error = 1 - r.Accuracy
	if o.asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d/%d correct (accuracy %.2f%%, error %.2f%%)\n", o.model.path, r.Correct, r.Total, 100*r.Accuracy, 100*r.Error)
	return nil
}

// writePredictions writes the argmax class of every test image, one per line.
func writePredictions(path string, m *nn.Model, test nn.Dataset) error {
	var b strings.Builder
	err := nn.Predict(m, test.X, test.Len(), 500, func(_ int, out []float32) {
		fmt.Fprintln(&b, nn.Argmax(out))
	})
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, []byte(b.String()))
}
