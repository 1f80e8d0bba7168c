package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
)

// searchGoal checks the chain search's flags (--max-error, --max-drop,
// --search-retries) before anything is loaded: searching is false when
// they ask for no search.
func (o *compressOptions) searchGoal(cmd *cobra.Command) (searching bool, err error) {
	set := cmd.Flags().Changed
	if set("target-ratio") {
		return false, errors.New("--target-ratio needs --data; the MNIST chain models search with --max-error or --max-drop")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"max-error", o.maxError}, {"max-drop", o.ga.maxDrop}} {
		if !set(f.name) {
			continue
		}
		if !(f.v > 0 && f.v < 100) {
			return false, fmt.Errorf("--%s wants a percentage of the held-out images above 0 and below 100, got %g", f.name, f.v)
		}
		searching = true
	}
	if searching && o.ga.retries < 0 {
		return false, fmt.Errorf("--search-retries %d: want 0 or more", o.ga.retries)
	}
	return searching, nil
}

// chainSearch is the search for m the flags ask for.
func (o *compressOptions) chainSearch(cmd *cobra.Command, m *nn.Model) (pipeline.ChainSearch, error) {
	s := pipeline.DefaultChainSearch(m)
	s.MaxError, s.MaxDrop = o.maxError, o.ga.maxDrop
	if cmd.Flags().Changed("search-retries") {
		s.Retries = o.ga.retries
	}
	return s, s.Validate()
}

// searchBase is the recipe the search starts from: --config, an explicit
// --preset, else the preset max.
func (o *compressOptions) searchBase(cmd *cobra.Command, spec arch.Spec) (pipeline.Config, error) {
	preset := o.preset
	if !cmd.Flags().Changed("preset") {
		preset = "max"
	}
	return compressConfig(o.configPath, preset, spec)
}

// runChainSearch searches the settings of a chain model (compress
// --max-error/--max-drop): cheap candidates, then full runs, the chosen
// file written to out and its recipe beside it.
func (o *compressOptions) runChainSearch(cmd *cobra.Command, m *nn.Model, base pipeline.Config, train, test nn.Dataset, workDir string) error {
	s, err := o.chainSearch(cmd, m)
	if err != nil {
		return err
	}
	c := &pipeline.ChainSearcher{Base: base, Search: s, Train: train, Test: test, WorkDir: workDir, Log: cmd.ErrOrStderr(),
		Progress: func(step string) func(nn.Progress) { return trainingBar(step) }}
	start := time.Now()
	rep, err := c.Run(cmd.Context(), m, o.out)
	if errors.As(err, new(*pipeline.Interrupted)) {
		return resumable{err} // each full run's work directory holds its steps
	}
	if err != nil {
		return err
	}
	saved := strings.TrimSuffix(o.out, ".dcz") + ".config.json"
	if err := pipeline.WriteConfig(saved, rep.Config); err != nil {
		return err
	}
	if !o.keepWork {
		os.RemoveAll(workDir)
	}
	if o.reportDir != "" {
		if err := writeCompressReport(o.reportDir, rep.Result, os.Args); err != nil {
			return err
		}
	}
	if err := printChainSearch(cmd.OutOrStdout(), rep, saved, o.asJSON, time.Since(start)); err != nil {
		return err
	}
	if !rep.Met {
		return fmt.Errorf("the goal (%s) was missed after %d full runs; %s holds the nearest miss", rep.Goal, len(rep.Runs), o.out)
	}
	return nil
}

func printChainSearch(w io.Writer, rep *pipeline.ChainSearchReport, saved string, asJSON bool, took time.Duration) error {
	res := rep.Result
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{"out": res.Out, "stages": res.Stages, "search": rep,
			"settings": saved, "seconds": took.Seconds()})
	}
	fmt.Fprintf(w, "\nsettings search, %s\n(held-out: the last training images, which the search's retraining does not see but the input model's training did; candidates pruned at once and briefly retrained; the test error is reported, never used to choose)\n", rep.Goal)
	fmt.Fprint(w, pipeline.ChainSearchTable(rep).Text())
	fmt.Fprintf(w, "input model: held-out error %.2f %%, test error %.2f %%\n\n", rep.OriginalHeldOutError, rep.OriginalTestError)
	fmt.Fprint(w, pipeline.StageTable(res.Stages).Text())
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(pipeline.SizeNotes))
	fmt.Fprintf(w, "wrote the settings to %s (compress --config %s repeats them, training on every training image)\n", saved, saved)
	fmt.Fprintf(w, "wrote %s in %s\n", res.Out, took.Round(time.Second))
	return nil
}
