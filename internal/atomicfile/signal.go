package atomicfile

import (
	"os"
	"os/signal"
	"syscall"
)

// CleanOnSignal installs a handler for SIGINT and SIGTERM that removes the
// temporary files in flight, then exits with the shell's status for the
// signal: 130 for SIGINT, 143 for SIGTERM. Call it once, from main.
func CleanOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		RemoveInFlight()
		os.Exit(exitStatus(sig))
	}()
}

// exitStatus is 128 plus the signal's number.
func exitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
