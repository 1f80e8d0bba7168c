package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/deepcompress/deepcompress/nn"
)

// stderrIsTerminal says whether bars can be drawn: piped into a log,
// stderr gets only the one-line summaries.
var stderrIsTerminal = term.IsTerminal(int(os.Stderr.Fd()))

// newBar is a progress bar on stderr for total steps of work; it draws
// nothing when stderr is not a terminal.
func newBar(total int, what string) *progressbar.ProgressBar {
	if !stderrIsTerminal {
		return progressbar.DefaultSilent(int64(total), what)
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
}

// trainingBar returns a reporter for nn.Train that draws one bar per epoch
// with the running loss, accuracy and throughput, and prints a summary line
// when each epoch ends.
func trainingBar(label string) func(nn.Progress) {
	var bar *progressbar.ProgressBar
	return func(p nn.Progress) {
		if p.Batch == 1 {
			bar = newBar(p.Batches, "")
		}
		rate := float64(p.Samples) / p.Elapsed.Seconds()
		bar.Describe(fmt.Sprintf("%s epoch %d/%d  loss %.4f  acc %.2f%%  %.0f img/s", label, p.Epoch+1, p.Epochs, p.Loss, 100*p.Accuracy, rate))
		bar.Set(p.Batch)
		if p.Batch == p.Batches {
			bar.Finish()
			fmt.Fprintf(os.Stderr, "%s epoch %d/%d: loss %.4f, train accuracy %.2f%%, %.1fs (%.0f img/s)\n",
				label, p.Epoch+1, p.Epochs, p.Loss, 100*p.Accuracy, p.Elapsed.Seconds(), rate)
		}
	}
}
