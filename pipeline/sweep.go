package pipeline

import (
	"fmt"

	"github.com/deepcompress/deepcompress/finetune"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/report"
)

// BitsSweep measures test accuracy (%) after quantizing every layer of m to
// each number of bits, once per initialisation, fine-tuning the shared
// values with ft when ft.Epochs > 0 (the paper's figures 6 and 8). m is
// restored afterwards. progress, if non-nil, is called after each point.
func BitsSweep(m *nn.Model, train, test nn.Dataset, bits []int, inits []quantize.Init, ft Recipe, seed uint64,
	progress func(init quantize.Init, bits int, acc float64)) ([]report.Series, error) {
	saved := m.Snapshot()
	defer m.Restore(saved)
	var series []report.Series
	for _, in := range inits {
		s := report.Series{Name: string(in)}
		for _, b := range bits {
			m.Restore(saved)
			all := map[string]int{}
			for _, p := range m.Weights() {
				all[p.Name] = b
			}
			layers, err := finetune.Quantize(m, all, quantize.Options{Init: in, Seed: int64(seed)})
			if err != nil {
				return nil, fmt.Errorf("pipeline: %s init, %d bits: %w", in, b, err)
			}
			ftr, err := finetune.New(m, layers, ft.Momentum)
			if err != nil {
				return nil, err
			}
			if ft.Epochs > 0 {
				if err := nn.Train(m, train, ft.TrainConfig(seed), ftr, nil); err != nil {
					return nil, err
				}
			}
			correct, err := nn.Evaluate(m, test, 1000)
			if err != nil {
				return nil, err
			}
			acc := 100 * float64(correct) / float64(test.Len())
			s.X = append(s.X, float64(b))
			s.Y = append(s.Y, acc)
			if progress != nil {
				progress(in, b, acc)
			}
		}
		series = append(series, s)
	}
	return series, nil
}
