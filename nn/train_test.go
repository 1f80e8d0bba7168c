package nn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/nn"
)

// TestShortTrainingBeats90 trains LeNet-300-100 for one epoch on 20,000
// MNIST images (8,000 with -short, which reach 91.7 %) and requires more
// than 90 % on the full test set.
func TestShortTrainingBeats90(t *testing.T) {
	train, test, err := mnist.Load("")
	if err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	n := 20000
	if testing.Short() {
		n = 8000
	}
	data := nn.Dataset{X: train.Normalized(mnist.Mean, mnist.Std)[:n*784], Labels: train.Labels[:n], Dim: 784}
	testData := nn.Dataset{X: test.Normalized(mnist.Mean, mnist.Std), Labels: test.Labels, Dim: 784}
	m, err := nn.New(arch.LeNet300(), 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := nn.TrainConfig{Epochs: 1, Batch: 64, LR: 0.05, Momentum: 0.9, Schedule: nn.Cosine, Seed: 1}
	if err := nn.Train(m, data, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	correct, err := nn.Evaluate(m, testData, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if correct <= 9000 {
		t.Errorf("%d/10000 correct after a short training run, want > 9000", correct)
	}
	t.Logf("%d/10000 correct", correct)

	// Same seed, same result.
	m2, _ := nn.New(arch.LeNet300(), 1)
	if err := nn.Train(m2, data, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		q := m2.Param(p.Name)
		for i := range p.Data {
			if p.Data[i] != q.Data[i] {
				t.Fatalf("training is not reproducible: %s[%d] %v vs %v", p.Name, i, p.Data[i], q.Data[i])
			}
		}
	}
}

// TestTrainContextStopsAtTheNextBatch cancels training from the report of
// its third batch: no fourth batch may run, and the error says why.
func TestTrainContextStopsAtTheNextBatch(t *testing.T) {
	m, err := nn.New(arch.Spec{Name: "tiny", Input: []int{4}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc", Out: 2}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	data := nn.Dataset{X: make([]float32, 64*4), Labels: make([]uint8, 64), Dim: 4}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := 0
	err = nn.TrainContext(ctx, m, data, nn.TrainConfig{Epochs: 3, Batch: 4, LR: 0.1}, nil, func(nn.Progress) {
		if batches++; batches == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if batches != 3 {
		t.Errorf("%d batches ran, want 3", batches)
	}
}

// TestTrainResumes stops a run after each epoch in turn (AfterEpoch saves
// the state, the parameters and the velocities), restarts it from there in
// a fresh model of other weights and dropout generators, and requires the
// uninterrupted run's weights, bit for bit.
func TestTrainResumes(t *testing.T) {
	spec := arch.Spec{Name: "tiny", Input: []int{8}, Layers: []arch.Layer{{Kind: arch.Dense, Name: "fc1", Out: 6}, {Kind: arch.ReLU},
		{Kind: arch.Dropout, Rate: 0.3}, {Kind: arch.Dense, Name: "fc2", Out: 3}}}
	data := nn.Dataset{X: make([]float32, 50*8), Labels: make([]uint8, 50), Dim: 8}
	for i := range data.X {
		data.X[i] = float32(i%13)/13 - 0.4
	}
	for i := range data.Labels {
		data.Labels[i] = uint8(i % 3)
	}
	cfg := nn.TrainConfig{Epochs: 4, Batch: 8, LR: 0.1, Momentum: 0.9, Schedule: nn.Cosine, Seed: 5}
	whole, _ := nn.New(spec, 1)
	if err := nn.Train(whole, data, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	for stop := 1; stop < cfg.Epochs; stop++ {
		m, _ := nn.New(spec, 1)
		var saved nn.TrainState
		params := map[string][2][]float32{}
		c := cfg
		c.AfterEpoch = func(s nn.TrainState) error {
			if s.Epoch < stop {
				return nil
			}
			saved = s
			for _, p := range m.Params() {
				params[p.Name] = [2][]float32{append([]float32(nil), p.Data...), append([]float32(nil), p.Velocity()...)}
			}
			return errStop
		}
		if err := nn.Train(m, data, c, nil, nil); !errors.Is(err, errStop) || saved.Epoch != stop {
			t.Fatalf("stop after epoch %d: %v, state of epoch %d", stop, err, saved.Epoch)
		}
		again, _ := nn.New(spec, 99) // other weights: all must come from the checkpoint
		for _, p := range again.Params() {
			copy(p.Data, params[p.Name][0])
			p.SetVelocity(params[p.Name][1])
		}
		c = cfg
		c.Start = &saved
		if err := nn.Train(again, data, c, nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, p := range whole.Params() {
			q := again.Param(p.Name)
			for i := range p.Data {
				if p.Data[i] != q.Data[i] {
					t.Fatalf("resumed after epoch %d: %s[%d] = %v, want %v", stop, p.Name, i, q.Data[i], p.Data[i])
				}
			}
		}
	}
}
