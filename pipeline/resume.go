package pipeline

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/safetensors"
)

// A round's retraining is checkpointed after every epoch but its last in
// a partial file: the parameters, masks and momentum, the sample order
// and the shuffling generator, so that an interrupted round resumes at
// its last completed epoch and still ends with the uninterrupted run's
// weights, bit for bit. The round's own checkpoint replaces it at the end.

// partialFile is round's checkpoint after its last completed epoch.
func partialFile(dir string, round int) string {
	return filepath.Join(dir, fmt.Sprintf("pruned-round%d-partial.safetensors", round))
}

// metaRandomState is the checkpoints' metadata key of the model's dropout
// generators (nn.Model.RandomState, in hex), without which a model with
// dropout would train on differently after a resume.
const metaRandomState = "random_state"

// orderTensor holds the sample order, exact in float32 below 2^24 samples.
const (
	orderTensor = "train.order"
	maxOrder    = 1 << 24
)

// epochCheckpoints returns the AfterEpoch hook that checkpoints round's
// retraining, or nil where the sample order would not fit (2^24 samples).
func (r *Runner) epochCheckpoints(m *nn.Model, round int) func(nn.TrainState) error {
	if r.Train.Len() >= maxOrder {
		return nil
	}
	return func(s nn.TrainState) error {
		if err := savePartial(partialFile(r.WorkDir, round), m, s); err != nil {
			return err
		}
		return r.checkpointed()
	}
}

// savePartial writes m's parameters ("NAME"), masks ("NAME.mask") and
// velocities ("NAME.velocity") with the training state into one file,
// atomically.
func savePartial(path string, m *nn.Model, s nn.TrainState) error {
	f := &safetensors.File{Metadata: map[string]string{"epoch": strconv.Itoa(s.Epoch), "rng": hex.EncodeToString(s.RNG),
		metaRandomState: hex.EncodeToString(s.Dropout)}}
	for _, p := range m.Params() {
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data})
		if p.Mask != nil {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: p.Name + ".mask", Shape: p.Shape, Data: p.Mask})
		}
		if v := p.Velocity(); v != nil {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: p.Name + ".velocity", Shape: p.Shape, Data: v})
		}
	}
	order := make([]float32, len(s.Order))
	for i, v := range s.Order {
		order[i] = float32(v)
	}
	f.Tensors = append(f.Tensors, safetensors.Tensor{Name: orderTensor, Shape: []int{len(order)}, Data: order})
	return safetensors.WriteFile(path, f)
}

// resumeRound loads round's partial checkpoint into m and returns the
// state to resume its training from; nil when there is none (a broken one
// is discarded, m untouched).
func (r *Runner) resumeRound(m *nn.Model, round int) *nn.TrainState {
	path := partialFile(r.WorkDir, round)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	s, err := loadPartial(path, m)
	if err != nil {
		r.discard(path, err)
		return nil
	}
	r.logf("prune: round %d resumes after epoch %d, loaded %s", round, s.Epoch, path)
	return s
}

// loadPartial checks the whole file against m before changing anything.
func loadPartial(path string, m *nn.Model) (*nn.TrainState, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	byName := map[string][]float32{}
	for _, t := range f.Tensors {
		byName[t.Name] = t.Data
	}
	epoch, err1 := strconv.Atoi(f.Metadata["epoch"])
	rng, err2 := hex.DecodeString(f.Metadata["rng"])
	dropout, err3 := hex.DecodeString(f.Metadata[metaRandomState])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("pipeline: training state: %w", err)
	}
	for _, p := range m.Params() {
		for _, name := range []string{p.Name, p.Name + ".mask", p.Name + ".velocity"} {
			if d, ok := byName[name]; (ok || name == p.Name) && len(d) != len(p.Data) {
				return nil, fmt.Errorf("pipeline: %s does not hold %s of this network", path, name)
			}
		}
	}
	order := make([]int, len(byName[orderTensor]))
	for i, v := range byName[orderTensor] {
		order[i] = int(v)
		if float32(order[i]) != v {
			return nil, fmt.Errorf("pipeline: %s: sample order entry %v is not an index", path, v)
		}
	}
	for _, p := range m.Params() {
		copy(p.Data, byName[p.Name])
		p.SetVelocity(clone(byName[p.Name+".velocity"]))
		p.SetMask(clone(byName[p.Name+".mask"]))
	}
	return &nn.TrainState{Epoch: epoch, RNG: rng, Order: order, Dropout: dropout}, nil
}

func clone(v []float32) []float32 {
	if v == nil {
		return nil
	}
	return append([]float32(nil), v...)
}

// roundDone removes round's partial checkpoint once the round's own
// checkpoint is written.
func (r *Runner) roundDone(round int) {
	if err := os.Remove(partialFile(r.WorkDir, round)); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.logf("could not remove %s: %v", partialFile(r.WorkDir, round), err)
	}
}
