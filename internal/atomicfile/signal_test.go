//go:build !windows

// SIGTERM exists only on Unix-like systems.

package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalRemovesInFlight runs this test binary as a child that blocks
// in the middle of a write, sends it SIGTERM and checks that it exits with
// status 143 and leaves no temporary file.
func TestSignalRemovesInFlight(t *testing.T) {
	if dir := os.Getenv("ATOMICFILE_CHILD_DIR"); dir != "" {
		CleanOnSignal()
		Write(filepath.Join(dir, "out.bin"), func(w io.Writer) error {
			os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644)
			select {} // until the signal
		})
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalRemovesInFlight$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD_DIR="+dir)
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
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("child ended with %v, want exit status 143", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "ready" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
