//go:build !windows

// SIGTERM exists only on Unix-like systems.

package atomicfile

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalChild is the child process of the tests below: it installs
// NotifyContext and blocks in the middle of a write. With ATOMICFILE_WATCH
// set the write watches the context, returns its cause when cancelled and
// the child exits with status 40 if that is SIGTERM; else it blocks until
// the second signal.
func TestSignalChild(t *testing.T) {
	dir := os.Getenv("ATOMICFILE_CHILD_DIR")
	if dir == "" {
		return // run as a child only
	}
	ctx, stop := NotifyContext(context.Background())
	defer stop()
	err := Write(filepath.Join(dir, "out.bin"), func(w io.Writer) error {
		os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644)
		if os.Getenv("ATOMICFILE_WATCH") == "" {
			select {} // until the second signal
		}
		<-ctx.Done()
		return context.Cause(ctx)
	})
	var se *SignalError
	if errors.As(err, &se) && se.ExitStatus() == 143 {
		os.Exit(40)
	}
	os.Exit(3)
}

// runChild starts TestSignalChild, waits until it is writing, sends it
// SIGTERM n times (checking that it outlives the first of two) and
// returns its exit status; it checks that no temporary file is left.
func runChild(t *testing.T, watch bool, n int) int {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD_DIR="+dir)
	if watch {
		cmd.Env = append(cmd.Env, "ATOMICFILE_WATCH=1")
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child never started writing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	cmd.Process.Signal(syscall.SIGTERM)
	if n > 1 {
		select {
		case err := <-exited:
			t.Fatalf("the first signal ended the child (%v); it should only cancel", err)
		case <-time.After(300 * time.Millisecond):
		}
		cmd.Process.Signal(syscall.SIGTERM)
	}
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child ended with %v, want an exit status", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "ready" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	return ee.ExitCode()
}

// TestFirstSignalCancels: work that watches the context stops on the first
// SIGTERM, its write undone, the signal as the context's cause.
func TestFirstSignalCancels(t *testing.T) {
	if got := runChild(t, true, 1); got != 40 {
		t.Fatalf("exit status %d, want 40 (the write returned the SIGTERM cause)", got)
	}
}

// TestSecondSignalExits: work that ignores the context is ended by the
// second SIGTERM, with its temporary file removed.
func TestSecondSignalExits(t *testing.T) {
	if got := runChild(t, false, 2); got != 143 {
		t.Fatalf("exit status %d, want 143", got)
	}
}
