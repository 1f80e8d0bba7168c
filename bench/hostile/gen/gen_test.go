package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/infer"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
)

// overBudget are the cases that must be refused by the memory budget
// (an *budget.ExceededError), not by some other check.
var overBudget = []string{
	"dcz-huge-sparse-dense", "dcz-huge-conv-kernel", "dcz-im2col-batch", "dcz-many-channels",
	"dcz-wide-activation", "dcz-tensors-only-huge", "st-arch-dense-2^24", "arch-dense-2^24",
	"arch-channels", "png-1x1e6", "png-100k-truncated", "jpeg-65535", "config-batch-1e9",
}

// TestCorpusThroughAPIs writes the quick corpus and feeds every case to the
// library function behind its commands: none may panic, every error must
// be short, and the cases in overBudget must meet the budget's error.
func TestCorpusThroughAPIs(t *testing.T) {
	if err := os.Chdir("../../.."); err != nil { // the repository root, for baseModel
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := run(dir, true); err != nil {
		t.Fatal(err)
	}
	base, err := modelfile.Load(filepath.Join(dir, "base/lenet300.safetensors"), modelfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(dir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]error{}
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		f := strings.Split(line, "\t")
		name, class, args := f[0], f[1], f[2:]
		if _, done := seen[name]; done {
			continue
		}
		err := throughAPI(dir, class, args, base)
		seen[name] = err
		if errors.Is(err, errPanic) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && len(err.Error()) > 2000 {
			t.Errorf("%s: error of %d bytes", name, len(err.Error()))
		}
	}
	for _, name := range overBudget {
		var ex *budget.ExceededError
		if err, ok := seen[name]; !ok {
			t.Errorf("%s: no such case", name)
		} else if !errors.As(err, &ex) {
			t.Errorf("%s: got %v, want the budget's error", name, err)
		}
	}
	for _, name := range []string{"dcz-nan-codebook", "st-nan-weights", "png-legit-16bit"} {
		if seen[name] != nil {
			t.Errorf("%s: a fair file refused: %v", name, seen[name])
		}
	}
}

var errPanic = errors.New("PANIC")

// throughAPI runs one case's first command through the library, turning
// a panic into a test error.
func throughAPI(dir, class string, args []string, base *nn.Model) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	path := func(i int) string { return filepath.Join(dir, args[i]) }
	switch class {
	case "dcz", "safetensors", "onnx":
		file := path(len(args) - 1) // inspect FILE.dcz, eval --model FILE
		m, err := modelfile.Load(file, modelfile.Options{})
		if err == nil {
			err = m.Prepare(500, false) // eval's batch
		}
		if _, inferErr := infer.LoadFile(file); err == nil && class == "dcz" {
			err = inferErr
		}
		return err
	case "arch":
		m, err := modelfile.Load(path(2), modelfile.Options{Arch: path(4)})
		if err == nil {
			err = m.Prepare(500, false)
		}
		return err
	case "config":
		if args[1] == "--data-free" {
			return nil // datafree.LoadConfig: covered by its own tests
		}
		c, err := pipeline.LoadConfig(path(6))
		if err != nil {
			return err
		}
		return c.Validate(base)
	case "image":
		f, err := os.Open(path(2))
		if err != nil {
			return err
		}
		defer f.Close()
		img, err := infer.DecodeImage(f)
		if err != nil {
			return err
		}
		_, err = infer.ImageInput(img, infer.MNISTMean, infer.MNISTStd)
		return err
	case "idx":
		_, err := mnist.LoadTest(path(4))
		return err
	case "same":
		return atomicfile.CheckOutput(filepath.Join(dir, args[len(args)-1]), path(2))
	}
	return fmt.Errorf("unknown class %q", class)
}
