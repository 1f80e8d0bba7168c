package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
)

// The flag groups that several commands share, so that a flag means the
// same wherever it appears: --model is always a model file and --arch
// always an architecture (a built-in name or a JSON description); --bits
// and --index-bits always take one width for every weight or widths by
// name.

// modelFlags are --model, the model file a command reads, and --arch, its
// architecture when the file records none.
type modelFlags struct {
	path, arch string
}

func (m *modelFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&m.path, "model", "", what)
	cmd.Flags().StringVar(&m.arch, "arch", "", "architecture for safetensors files that record none: lenet300, lenet5 or a JSON file")
	cmd.MarkFlagRequired("model")
}

func (m *modelFlags) load() (*nn.Model, error) {
	return modelfile.Load(m.path, modelfile.Options{Arch: m.arch})
}

// widths is the value of --bits and --index-bits: one width for every
// weight ("5"), widths by name ("fc1=6,conv*=8": layer names, weight names
// or patterns, see package settings), or both ("5,fc1=6"). The width for
// every weight is kept under the pattern "*", which any narrower name
// overrides.
type widths map[string]int

// all is the key of the width for every weight.
const all = "*"

func (w widths) Set(s string) error {
	for _, item := range strings.Split(s, ",") {
		name, val, named := strings.Cut(item, "=")
		if !named {
			name, val = all, item
		}
		name = strings.TrimSpace(name)
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 1 || name == "" {
			return fmt.Errorf("want BITS or NAME=BITS,... with BITS a positive whole number, got %q", item)
		}
		w[name] = n
	}
	return nil
}

func (w widths) String() string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(w[k])
		if k == all {
			parts[i] = strconv.Itoa(w[k])
		}
	}
	return strings.Join(parts, ",")
}

func (w widths) Type() string { return "BITS|NAME=BITS,..." }

// only returns the width for every weight, and whether that is all w
// holds (no names).
func (w widths) only() (int, bool) {
	b, ok := w[all]
	return b, ok && len(w) == 1
}
