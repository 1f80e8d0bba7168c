package datafree

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/safetensors"
)

// IsTensorsOnly reports whether the .dcz file at path holds named tensors
// without a network description, as Compress writes it.
func IsTensorsOnly(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("datafree: %w", err)
	}
	defer f.Close()
	d, err := dcz.NewDecoder(f)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return dcz.TensorsOnly(d.Spec()), nil
}

// Decode expands the .dcz file in into the safetensors file out: every
// tensor as dense float32 (W[p] = codebook[idx(p)] at the survivors, 0
// elsewhere; raw tensors as stored), in the order of the .dcz file. It
// streams: the .dcz file is read twice, first for the names and shapes
// that the safetensors header needs, then section by section, decoded on
// workers goroutines (0 means GOMAXPROCS) with at most DefaultMemoryBudget
// bytes of dense tensors in flight. out appears only once complete. Any
// .dcz file works, tensors-only or not.
func Decode(in, out string, workers int) error {
	opt := Options{Workers: workers}
	workers = opt.workers()
	infos, err := scanInfos(in)
	if err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("datafree: %w", err)
	}
	defer f.Close()
	d, err := dcz.NewDecoder(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	sw, err := safetensors.Create(out, nil, infos)
	if err != nil {
		return err
	}
	p := stages[*dcz.Frame, []float32]{
		n: len(infos), workers: workers,
		cost: func(i int) int64 { return 8 * int64(arch.Numel(infos[i].Shape)) },
		admit: func(i int) (*dcz.Frame, error) {
			fr, err := d.NextFrame()
			if err == nil && fr.Name != infos[i].Name {
				err = fmt.Errorf("datafree: %s changed while it was being read", in)
			}
			return fr, err
		},
		work: func(_ int, fr *dcz.Frame) ([]float32, error) {
			s, err := fr.Decode()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in, err)
			}
			if s.Raw != nil {
				return s.Raw.Data, nil
			}
			return s.Layer.Dense(), nil
		},
		emit: func(i int, data []float32) error { return sw.WriteTensor(infos[i].Name, data) },
	}
	if err := p.run(opt.newBudget(workers)); err != nil {
		sw.Abort()
		return err
	}
	if _, err := d.NextFrame(); err != io.EOF {
		sw.Abort()
		if err == nil {
			err = fmt.Errorf("datafree: %s changed while it was being read", in)
		}
		return fmt.Errorf("%s: %w", in, err)
	}
	return sw.Close()
}

// scanInfos reads the whole .dcz file, checking every section's framing
// and checksum, and returns the name and shape of each tensor.
func scanInfos(path string) ([]safetensors.Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datafree: %w", err)
	}
	defer f.Close()
	d, err := dcz.NewDecoder(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var infos []safetensors.Info
	for {
		fr, err := d.NextFrame()
		if errors.Is(err, io.EOF) {
			return infos, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		infos = append(infos, safetensors.Info{Name: fr.Name, DType: safetensors.F32, Shape: fr.Shape})
	}
}
