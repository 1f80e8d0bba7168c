package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/npy"
)

func init() { registry = append(registry, runCmd) }

// runOutput describes one graph output in run's JSON.
type runOutput struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	File  string `json:"file,omitempty"`
}

// runResult is run's JSON output.
type runResult struct {
	Model   string      `json:"model"`
	Outputs []runOutput `json:"outputs"`
	// SecondsPerRun is the mean time of one forward pass (with --repeat,
	// the mean of the repeats after the first); absent with --input-shape.
	SecondsPerRun float64 `json:"seconds_per_run,omitempty"`
}

// runOptions are the settings of run.
type runOptions struct {
	model               modelFlags
	outDir              string
	inputs, inputShapes []string
	asJSON              bool
	repeat              int
}

func runCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run --model FILE --input NAME=FILE.npy ... --out DIR",
		Short: "Run any model graph on .npy inputs and write its outputs as .npy",
		Long: `Load a model as a graph (an .onnx file with the operators it uses, a
compressed .dcz, or a .safetensors checkpoint with its architecture), run it
forward on inputs read from NumPy .npy files, and write every graph output
to DIR/<output name>.npy (characters other than letters, digits, '.', '-'
and '_' in the name become '_').

Each input is given as --input NAME=FILE.npy; a graph with a single input
also takes --input FILE.npy. Inputs are converted to float32 (any .npy of
floats, integers or bools). The shapes must fit the shapes the graph
declares, where symbolic dimensions such as "batch" take any size as long as
every use agrees.

--input-shape NAME=1,3,224,224 (or just 1,3,224,224 for a single input)
checks a model without data: it compiles the graph for those shapes and
prints the shape of every output, writing nothing.

Prints one line per output (name, shape, file); with --json one object with
model, outputs and seconds_per_run. --repeat N runs the forward pass N times
and reports the mean time of the runs after the first.`,
		Example: `  deepcompress run --model resnet18.onnx --input input=image.npy --out out/
  deepcompress run --model lenet300.dcz --input digits.npy --out out/ --json
  deepcompress run --model lenet5.safetensors --arch lenet5 --input x.npy --out out/
  deepcompress run --model resnet18.onnx --input-shape input=1,3,224,224`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.model.register(cmd, "model file: .onnx, .dcz or .safetensors")
	f.StringArrayVar(&o.inputs, "input", nil, "an input as NAME=FILE.npy (FILE.npy alone for a single-input graph); repeat for each input")
	f.StringArrayVar(&o.inputShapes, "input-shape", nil, "check shapes without data: NAME=D1,D2,... (D1,D2,... alone for a single-input graph); repeatable")
	f.StringVar(&o.outDir, "out", "", "directory for the outputs, one OUTPUT_NAME.npy each (created if missing)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object: model, outputs (name, shape, dtype, file), seconds_per_run")
	f.IntVar(&o.repeat, "repeat", 1, "run the forward pass this many times and report the mean time after the first")
	// Data to run on, or shapes to check.
	cmd.MarkFlagsMutuallyExclusive("input", "input-shape")
	return cmd
}

func (o *runOptions) run(cmd *cobra.Command) error {
	switch {
	case len(o.inputs) == 0 && len(o.inputShapes) == 0:
		return errors.New("run: no inputs: pass --input NAME=FILE.npy (or --input-shape NAME=DIMS to check shapes)")
	case len(o.inputs) > 0 && o.outDir == "":
		return errors.New("run: --out DIR is required to write the outputs")
	case o.repeat < 1:
		return fmt.Errorf("run: --repeat %d: want at least 1", o.repeat)
	}
	g, err := modelfile.LoadGraph(o.model.path, modelfile.Options{Arch: o.model.arch})
	if err != nil {
		return err
	}
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", o.model.path, err)
	}
	res := runResult{Model: o.model.path}
	if len(o.inputShapes) > 0 {
		err = runShapes(m, o.inputShapes, &res)
	} else {
		err = runData(m, o.inputs, o.outDir, o.repeat, &res)
	}
	if err != nil {
		return err
	}
	return printRun(cmd.OutOrStdout(), res, o.asJSON)
}

// splitInputArg splits NAME=VALUE by the longest graph input name that
// prefixes it; a graph with one input also takes VALUE alone.
func splitInputArg(g *graph.Graph, arg, flag string) (name, value string, err error) {
	best := -1
	for i, v := range g.Inputs {
		if strings.HasPrefix(arg, v.Name+"=") && (best < 0 || len(v.Name) > len(g.Inputs[best].Name)) {
			best = i
		}
	}
	switch {
	case best >= 0:
		return g.Inputs[best].Name, arg[len(g.Inputs[best].Name)+1:], nil
	case len(g.Inputs) == 1:
		return g.Inputs[0].Name, arg, nil
	}
	return "", "", fmt.Errorf("run: --%s %s: name the input, NAME=..., one of: %s", flag, graph.Short(arg), describeInputs(g))
}

// describeInputs lists the graph's inputs with their declared shapes.
func describeInputs(g *graph.Graph) string {
	parts := make([]string, len(g.Inputs))
	for i, v := range g.Inputs {
		parts[i] = graph.Short(v.Name) + " " + v.ShapeString()
	}
	return strings.Join(parts, ", ")
}

// checkShape compares a shape with an input's declaration (rank and fixed
// dimensions; the engine then binds the symbolic ones).
func checkShape(v graph.Value, shape []int, from string) error {
	bad := v.Shape != nil && len(v.Shape) != len(shape)
	for k := 0; !bad && v.Shape != nil && k < len(shape); k++ {
		bad = v.Shape[k].Fixed() && v.Shape[k].Size != shape[k]
	}
	if bad {
		return fmt.Errorf("run: input %q: %s gives shape %s, the graph declares %s", graph.Short(v.Name), from, engine.ShapeString(shape), v.ShapeString())
	}
	return nil
}

func parseDims(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return []int{}, nil // a scalar
	}
	parts := strings.Split(s, ",")
	dims := make([]int, len(parts))
	for i, p := range parts {
		d, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("dimension %q is not a non-negative integer", p)
		}
		dims[i] = d
	}
	if _, err := budget.Elems(dims...); err != nil {
		return nil, err
	}
	return dims, nil
}

// missingInputs names the inputs the user gave nothing for.
func missingInputs(g *graph.Graph, given map[string]bool, flag string) error {
	var missing []string
	for _, v := range g.Inputs {
		if !given[v.Name] {
			missing = append(missing, graph.Short(v.Name)+" "+v.ShapeString())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("run: no --%s for input %s (the graph's inputs: %s)", flag, strings.Join(missing, ", "), describeInputs(g))
	}
	return nil
}

func inputDecl(g *graph.Graph, name string) graph.Value {
	for _, v := range g.Inputs {
		if v.Name == name {
			return v
		}
	}
	return graph.Value{Name: name}
}

// runShapes compiles the graph for the given shapes and reports the
// output shapes.
func runShapes(m *engine.Model, args []string, res *runResult) error {
	g := m.Graph
	shapes := map[string][]int{}
	for _, a := range args {
		name, dims, err := splitInputArg(g, a, "input-shape")
		if err != nil {
			return err
		}
		if _, dup := shapes[name]; dup {
			return fmt.Errorf("run: input %s given twice", graph.Short(name))
		}
		s, err := parseDims(dims)
		if err != nil {
			return fmt.Errorf("run: --input-shape %s: %w", graph.Short(a), err)
		}
		if err := checkShape(inputDecl(g, name), s, "--input-shape"); err != nil {
			return err
		}
		shapes[name] = s
	}
	if err := missingInputs(g, keys(shapes), "input-shape"); err != nil {
		return err
	}
	p, err := m.ProgramFor(shapes)
	if err != nil {
		return err
	}
	for _, v := range g.Outputs {
		res.Outputs = append(res.Outputs, runOutput{Name: v.Name, Shape: p.OutputShape(v.Name), DType: v.DType.String()})
	}
	return nil
}

func keys(m map[string][]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// runData reads the inputs, runs the graph and writes the outputs.
func runData(m *engine.Model, args []string, outDir string, repeat int, res *runResult) error {
	g := m.Graph
	feeds := map[string]*graph.Tensor{}
	for _, a := range args {
		name, file, err := splitInputArg(g, a, "input")
		if err != nil {
			return err
		}
		if _, dup := feeds[name]; dup {
			return fmt.Errorf("run: input %s given twice", graph.Short(name))
		}
		shape, data, err := npy.ReadFloat32File(file)
		if err != nil {
			return err
		}
		if err := checkShape(inputDecl(g, name), shape, file); err != nil {
			return err
		}
		feeds[name] = graph.NewFloat(shape, data)
	}
	given := map[string]bool{}
	for k := range feeds {
		given[k] = true
	}
	if err := missingInputs(g, given, "input"); err != nil {
		return err
	}
	outs, err := m.Run(feeds)
	if err != nil {
		return err
	}
	if repeat > 1 {
		start := time.Now()
		for range repeat - 1 {
			if outs, err = m.Run(feeds); err != nil {
				return err
			}
		}
		res.SecondsPerRun = time.Since(start).Seconds() / float64(repeat-1)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	used := map[string]bool{}
	for _, v := range g.Outputs {
		t := outs[v.Name]
		if t == nil {
			return fmt.Errorf("run: the engine computed no value for output %s", graph.Short(v.Name))
		}
		path := filepath.Join(outDir, outputFileName(v.Name, used))
		if err := writeTensor(path, t); err != nil {
			return err
		}
		res.Outputs = append(res.Outputs, runOutput{Name: v.Name, Shape: slices.Clone(t.Shape), DType: t.DType.String(), File: path})
	}
	return nil
}

// writeTensor writes a float32 tensor as '<f4' and an int64 one as '<i8'.
func writeTensor(path string, t *graph.Tensor) error {
	if t.DType == graph.Int64 {
		return atomicfile.Write(path, func(w io.Writer) error { return npy.WriteInt64(w, t.Shape, t.I) })
	}
	return npy.WriteFile(path, t.Shape, t.F)
}

// maxFileStem bounds the length of an output's file name.
const maxFileStem = 100

// outputFileName turns an output name into a file name inside the output
// directory: only letters, digits, '.', '-' and '_' are kept (others become
// '_'), a leading '.' becomes '_' (no hidden files, no ".."), the length is
// bounded, and names that collide get a numeric suffix. The result never
// holds a path separator.
func outputFileName(name string, used map[string]bool) string {
	b := []byte(name)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok || i == 0 && c == '.' {
			b[i] = '_'
		}
	}
	stem := string(b[:min(len(b), maxFileStem)])
	if stem == "" {
		stem = "output"
	}
	cand := stem
	for i := 2; used[strings.ToLower(cand)]; i++ { // case-insensitive file systems
		cand = fmt.Sprintf("%s_%d", stem, i)
	}
	used[strings.ToLower(cand)] = true
	return cand + ".npy"
}

func printRun(w io.Writer, res runResult, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(res)
	}
	for _, o := range res.Outputs {
		line := fmt.Sprintf("%s %s %s", graph.Short(o.Name), engine.ShapeString(o.Shape), o.DType)
		if o.File != "" {
			line += " -> " + o.File
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	if res.SecondsPerRun > 0 {
		_, err := fmt.Fprintf(w, "%.3f ms per run\n", 1000*res.SecondsPerRun)
		return err
	}
	return nil
}
