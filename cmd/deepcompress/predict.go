package main

import (
	"encoding/json"
	"fmt"
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
	Probs []float32 `json:"probs"`
}

func predictCmd() *cobra.Command {
	var (
		data   dataFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "predict FILE.dcz IMAGE.png [IMAGE.png ...]",
		Short: "Classify images straight from a compressed model",
		Long: `Load a .dcz into the compressed in-memory engine (codebooks, b-bit indices
and sparse positions, never expanded to dense float32) and classify each
image: grayscale, white digit on black as in MNIST; sizes other than 28x28
are resized. Prints the class and the probability of every class; with
--json, one JSON object per line with file, class and probs.`,
		Example: "  deepcompress predict lenet300.dcz seven.png three.png",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mean, std, err := data.meanStd()
			if err != nil {
				return err
			}
			m, err := infer.LoadFile(args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			probs := make([]float32, m.OutputSize())
			for _, path := range args[1:] {
				x, err := readImage(path, mean, std)
				if err != nil {
					return err
				}
				logits, err := m.Predict(x)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				infer.Softmax(probs, logits)
				p := prediction{File: path, Class: infer.Argmax(logits), Probs: probs}
				if asJSON {
					if err := enc.Encode(p); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d (%.1f%%)  %s\n", path, p.Class, 100*probs[p.Class], formatProbs(probs))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per image: file, class, probs")
	cmd.Flags().StringVar(&data.normalize, "normalize", "0.1307,0.3081", "input preprocessing MEAN,STD: x = (pixel/255 - MEAN)/STD")
	return cmd
}

func readImage(path string, mean, std float32) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := infer.DecodeImage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	x, err := infer.ImageInput(img, mean, std)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

func formatProbs(p []float32) string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = fmt.Sprintf("%d:%.3f", i, v)
	}
	return strings.Join(parts, " ")
}
