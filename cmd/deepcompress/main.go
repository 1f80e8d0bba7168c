// Command deepcompress compresses neural networks by pruning, trained
// quantization with weight sharing, and Huffman coding (Han, Mao, Dally,
// "Deep Compression", ICLR 2016), and runs them from the compressed form.
//
// Run `deepcompress demo` for the whole pipeline on MNIST, or
// `deepcompress help` for the list of commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

func main() {
	ctx, stop := atomicfile.NotifyContext(context.Background())
	defer stop()
	go exitAfterGrace(ctx)
	if err := newRoot().ExecuteContext(ctx); err != nil {
		msg, status := failure(ctx, err)
		fmt.Fprintln(os.Stderr, "deepcompress:", msg)
		os.Exit(status)
	}
}

// grace is how long a command may take to stop after Ctrl-C. The long
// loops (training batches, pruning rounds, tensors, sensitivity layers)
// watch the context and stop within milliseconds; a command that does not
// is ended when grace has passed, its temporary files removed.
const grace = time.Second

// exitAfterGrace ends the process grace after ctx is cancelled by a signal.
func exitAfterGrace(ctx context.Context) {
	<-ctx.Done()
	time.Sleep(grace)
	atomicfile.RemoveInFlight()
	fmt.Fprintln(os.Stderr, "deepcompress: interrupted")
	os.Exit(signalStatus(ctx))
}

// resumable marks an interruption that a rerun continues from its work
// directory.
type resumable struct{ err error }

func (e resumable) Error() string { return e.err.Error() }
func (e resumable) Unwrap() error { return e.err }

// failure is the message and exit status for a command's error: a run
// stopped by a signal says so (and how to resume when it can) with the
// shell's status for the signal, anything else its error with status 1.
func failure(ctx context.Context, err error) (string, int) {
	if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
		return withFlagHint(err).Error(), 1
	}
	if errors.As(err, new(resumable)) {
		return "interrupted; rerun the same command to resume", signalStatus(ctx)
	}
	return "interrupted", signalStatus(ctx)
}

// signalStatus is 128 plus the number of the signal that cancelled ctx.
func signalStatus(ctx context.Context) int {
	var se *atomicfile.SignalError
	if errors.As(context.Cause(ctx), &se) {
		return se.ExitStatus()
	}
	return 130
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
