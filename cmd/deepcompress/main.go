// Command deepcompress compresses neural networks by pruning, trained
// quantization with weight sharing, and Huffman coding (Han, Mao, Dally,
// "Deep Compression", ICLR 2016), and runs them from the compressed form.
//
// Run `deepcompress demo` for the whole pipeline on MNIST, or
// `deepcompress help` for the list of commands.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

func main() {
	atomicfile.CleanOnSignal()
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "deepcompress:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "deepcompress",
		Short: "Compress neural networks 35-50x: pruning, weight sharing, Huffman coding",
		Long: `deepcompress implements Deep Compression (Han, Mao, Dally, ICLR 2016):
train or import a network, prune it, share its weights through per-layer
k-means codebooks, Huffman-code the result into one .dcz file, and run it
directly from that file.

Start with "deepcompress demo" (trains LeNet-300-100 on MNIST, compresses it
and reports), or "deepcompress compress --model FILE --out FILE.dcz".`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: beforeRun,
	}
	addMaxMemoryFlag(root)
	root.CompletionOptions.HiddenDefaultCmd = true
	for _, g := range groups {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
	}
	for _, c := range commands() {
		c.GroupID = groupOf[c.Name()]
		root.AddCommand(c)
	}
	return root
}

// The command list in groups, as restic's: what compresses, what reads
// and writes files, what runs models, what analyses them.
var groups = []struct{ id, title string }{
	{"pipeline", "Compress:"},
	{"files", "Files:"},
	{"run", "Run models:"},
	{"analysis", "Analyse:"},
}

var groupOf = map[string]string{
	"compress": "pipeline", "demo": "pipeline", "train": "pipeline", "prune": "pipeline", "quantize": "pipeline", "encode": "pipeline",
	"decode": "files", "export": "files", "inspect": "files",
	"run": "run", "eval": "run", "predict": "run",
	"sensitivity": "analysis",
}

// registry collects the subcommands; each subcommand's file adds itself in
// an init function so that main.go never changes when one is added.
var registry []func() *cobra.Command

func commands() []*cobra.Command {
	cmds := make([]*cobra.Command, len(registry))
	for i, mk := range registry {
		cmds[i] = mk()
	}
	return cmds
}
