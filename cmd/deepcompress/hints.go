package main

import (
	"errors"
	"fmt"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/pipeline"
)

// flagHints name the flag that answers a library error: the library speaks
// of its own options, the command line of its flags.
var flagHints = []struct {
	is   func(error) bool
	hint string
}{
	{func(err error) bool { return errors.As(err, new(*budget.ExceededError)) }, "raise it with --max-memory"},
	{func(err error) bool { return errors.Is(err, mnist.ErrNotFound) }, "or pass --data-dir DIR"},
	{func(err error) bool { return errors.Is(err, modelfile.ErrNoArch) }, "pass --arch lenet300|lenet5|FILE.json"},
	{func(err error) bool { return errors.Is(err, modelfile.ErrTensorsOnly) }, `it was made by compress --data-free: "export --model FILE.dcz --out FILE.safetensors" expands it`},
	{func(err error) bool { return errors.Is(err, pipeline.ErrWorkDirTaken) }, "or pick another with --work-dir"},
}

// withFlagHint adds to err the hint of the first flagHints entry it is.
func withFlagHint(err error) error {
	for _, h := range flagHints {
		if h.is(err) {
			return fmt.Errorf("%w; %s", err, h.hint)
		}
	}
	return err
}
