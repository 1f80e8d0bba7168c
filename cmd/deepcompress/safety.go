package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

// The flags whose values name files a command reads, and those naming
// files it writes. checkPaths looks them up on whatever command runs, so a
// new command is covered by naming its flags this way.
var (
	inputFlags  = []string{"model", "teacher", "config", "arch"}
	outputFlags = []string{"out", "predictions", "png"}
	// dirOutputs are the commands whose --out is a folder they create.
	dirOutputs = map[string]bool{"demo": true, "run": true}
)

// addMaxMemoryFlag registers the process memory budget on the root.
func addMaxMemoryFlag(root *cobra.Command) {
	root.PersistentFlags().String("max-memory", budget.FormatBytes(budget.DefaultLimit),
		"memory budget for anything whose size comes from input (shapes, batches, images): e.g. 4GiB, 512MiB")
}

// beforeRun applies --max-memory and checks the paths, before any work.
func beforeRun(cmd *cobra.Command, args []string) error {
	limit := budget.DefaultLimit
	if f := cmd.Flags().Lookup("max-memory"); f != nil && f.Changed {
		n, err := budget.ParseBytes(f.Value.String())
		if err != nil {
			return fmt.Errorf("--max-memory: %w", err)
		}
		limit = n
	}
	budget.Default.SetLimit(limit)
	return checkPaths(cmd, args)
}

// checkPaths refuses an output that is one of the inputs (the arguments
// and the input flags), and an output file whose directory cannot take it,
// before the command reads anything: the input is never overwritten, and a
// long run does not fail only at its end.
func checkPaths(cmd *cobra.Command, args []string) error {
	inputs := append([]string(nil), args...)
	for _, name := range inputFlags {
		if v := flagValue(cmd, name); v != "" {
			inputs = append(inputs, v)
		}
	}
	for _, name := range outputFlags {
		out := flagValue(cmd, name)
		if out == "" {
			continue
		}
		if name == "out" && dirOutputs[cmd.Name()] {
			for _, in := range inputs {
				if atomicfile.SameFile(out, in) {
					return &atomicfile.SameFileError{Out: out, In: in}
				}
			}
			continue
		}
		if err := atomicfile.CheckOutput(out, inputs...); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
	}
	return nil
}

// flagValue is the value of the named string flag of cmd, "" if none.
func flagValue(cmd *cobra.Command, name string) string {
	f := cmd.Flags().Lookup(name)
	if f == nil || f.Value.Type() != "string" {
		return ""
	}
	return f.Value.String()
}
