package atomicfile

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// SignalError is the cause of a context cancelled by NotifyContext: the
// signal that stopped the process.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return fmt.Sprintf("stopped by signal %v", e.Signal) }

// ExitStatus is the shell's status for the signal: 128 plus its number
// (130 for SIGINT, 143 for SIGTERM).
func (e *SignalError) ExitStatus() int { return exitStatus(e.Signal) }

// NotifyContext handles SIGINT and SIGTERM in two steps. The first cancels
// the returned context, with a *SignalError as its cause, so that long
// work stops at its next step and keeps what it finished; the second
// removes the temporary files in flight and exits at once with
// ExitStatus. stop releases the handler (a signal then has its default
// effect). Call it once, from main.
func NotifyContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(&SignalError{Signal: sig})
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			RemoveInFlight()
			os.Exit(exitStatus(sig))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// exitStatus is 128 plus the signal's number.
func exitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
