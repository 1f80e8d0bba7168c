package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/report"
)

func init() { registry = append(registry, inspectCmd) }

// inspectOptions are the settings of inspect.
type inspectOptions struct {
	path   string
	asJSON bool
}

func inspectCmd() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect FILE.dcz [--json]",
		Short: "Print the per-layer table of a compressed file (the paper's Tables 2 and 3)",
		Long: `Print, per layer: weights, kept %, weight bits before (P+Q) and after
Huffman coding, index bits before and after Huffman coding, the entropy
coder (huffman, or arith: one arithmetic-coded stream, whose bits the
"+H" columns split by the context model's cost of indices and of
positions) with its coded bits per kept weight and per position, the
size against dense 32-bit weights for P+Q and P+Q+H, and the codebook (its
shared values and how they are stored, float32 or float16); then the
total, and every raw tensor (biases, weights left uncompressed) with its
storage type and bytes; then the file's size on disk against the 32-bit
size of all parameters (weights and biases). --json prints one object; its
"total" has dense_bytes, file_bytes and ratio, each layer its
codebook_type, coder, coded_bytes, bits_per_weight and bits_per_position,
each raw tensor its type.`,
		Example: "  deepcompress inspect lenet300.dcz",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = args[0]
			return o.run(cmd)
		},
	}
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON object")
	return cmd
}

func (o *inspectOptions) run(cmd *cobra.Command) error { return printInspect(cmd, o.path, o.asJSON) }

// printInspect prints the tables of the .dcz file at path, or its JSON.
func printInspect(cmd *cobra.Command, path string, asJSON bool) error {
	st, err := dcz.Inspect(path)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
	}
	fmt.Fprint(cmd.OutOrStdout(), statsTable(st).Text())
	if len(st.Raw) > 0 {
		fmt.Fprintln(cmd.OutOrStdout())
		fmt.Fprint(cmd.OutOrStdout(), rawTable(st).Text())
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d bytes on disk; dense 32-bit parameters %d bytes; ratio %.1fx\n",
		path, st.Total.FileBytes, st.Total.DenseBytes, st.Total.Ratio)
	return nil
}

// inspectTable is the per-layer table of a .dcz file.
func inspectTable(path string) (report.Table, error) {
	st, err := dcz.Inspect(path)
	if err != nil {
		return report.Table{}, err
	}
	return statsTable(st), nil
}

func statsTable(st *dcz.Stats) report.Table {
	t := report.Table{Header: []string{"layer", "#weights", "kept %", "weight bits (P+Q)", "weight bits (+H)",
		"index bits (P+Q)", "index bits (+H)", "coder", "bits/weight", "bits/position", "vs dense (P+Q)", "vs dense (P+Q+H)", "codebook"}}
	for _, l := range st.Layers {
		t.Rows = append(t.Rows, []string{l.Name, strconv.Itoa(l.Weights), fmt.Sprintf("%.1f%%", l.KeptPct),
			strconv.Itoa(l.WeightBits), fmt.Sprintf("%.1f", l.WeightBitsHuffman), strconv.Itoa(l.IndexBits),
			fmt.Sprintf("%.1f", l.IndexBitsHuffman), l.Coder, fmt.Sprintf("%.2f", l.BitsPerWeight), fmt.Sprintf("%.3f", l.BitsPerPosition),
			fmt.Sprintf("%.2f%%", l.PQPct), fmt.Sprintf("%.2f%%", l.PQHPct), fmt.Sprintf("%d %s", l.Codebook, l.CodebookType)})
	}
	tt := st.Total
	t.Rows = append(t.Rows, []string{"total", strconv.Itoa(tt.Weights), fmt.Sprintf("%.1f%%", tt.KeptPct),
		fmt.Sprintf("%.1f", tt.WeightBits), fmt.Sprintf("%.1f", tt.WeightBitsHuffman), fmt.Sprintf("%.1f", tt.IndexBits),
		fmt.Sprintf("%.1f", tt.IndexBitsHuffman), "", fmt.Sprintf("%.2f", tt.BitsPerWeight), fmt.Sprintf("%.3f", tt.BitsPerPosition),
		fmt.Sprintf("%.2f%%", tt.PQPct), fmt.Sprintf("%.2f%%", tt.PQHPct), ""})
	return t
}

// rawTable lists the tensors a .dcz file stores raw, with their storage
// type (float32 or float16) and section bytes, and their total.
func rawTable(st *dcz.Stats) report.Table {
	t := report.Table{Header: []string{"raw tensor", "values", "stored as", "bytes"}}
	values := 0
	for _, r := range st.Raw {
		t.Rows = append(t.Rows, []string{r.Name, strconv.Itoa(r.Values), r.Type, strconv.Itoa(r.Bytes)})
		values += r.Values
	}
	t.Rows = append(t.Rows, []string{"total", strconv.Itoa(values), "", strconv.FormatInt(st.Total.RawBytes, 10)})
	return t
}
