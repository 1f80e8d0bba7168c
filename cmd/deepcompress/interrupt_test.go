//go:build !windows

// SIGINT is sent with syscall, as on Unix-like systems.

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
)

// TestCLIChild runs main with the arguments in DEEPCOMPRESS_ARGS (split on
// newlines) when that is set: the test binary is then the command, so the
// test below can interrupt a real process without building one.
func TestCLIChild(t *testing.T) {
	args := os.Getenv("DEEPCOMPRESS_ARGS")
	if args == "" {
		return // run as a child only
	}
	os.Args = append([]string{"deepcompress"}, strings.Split(args, "\n")...)
	main()
	os.Exit(0)
}

// TestInterruptResumes is compress interrupted by Ctrl-C: a small network
// is compressed in two prune/retrain rounds on MNIST; SIGINT arrives during
// the second round's retraining. The process must end within 2 seconds
// with status 130 and say how to resume, keep the first round's
// checkpoint, and the same command run again must finish with the file an
// uninterrupted run writes, byte for byte.
func TestInterruptResumes(t *testing.T) {
	needMNIST(t)
	dir := t.TempDir()
	m, err := nn.New(arch.Spec{Name: "tiny", Input: []int{784}, Layers: []arch.Layer{
		{Kind: arch.Dense, Name: "fc1", Out: 16}, {Kind: arch.ReLU}, {Kind: arch.Dense, Name: "fc2", Out: 10}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "tiny.safetensors")
	if err := modelfile.SaveCheckpoint(model, m, nil); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "c.json")
	os.WriteFile(config, []byte(`{"prune": {"default": {"keep": 0.3}, "rounds": 2,
		"retrain": {"epochs": 2, "batch": 256, "lr": 0.05, "momentum": 0.9}},
		"quantize": {"finetune": {"epochs": 1, "batch": 256, "lr": 0.001}}, "seed": 3}`), 0o644)
	args := func(out string) []string {
		return []string{"compress", "--model", model, "--config", config, "--out", out}
	}
	whole := filepath.Join(dir, "whole.dcz")
	if _, err := run(t, args(whole)...); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "resumed.dcz")
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIChild$")
	cmd.Env = append(os.Environ(), "DEEPCOMPRESS_ARGS="+strings.Join(args(out), "\n"))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	round1 := filepath.Join(out+".work", "pruned-round1.safetensors")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(round1); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no first-round checkpoint after 60 s; stderr:\n%s", stderr.String())
		}
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	took := time.Since(sent)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("the interrupted run ended with %v, want exit status 130; stderr:\n%s", err, stderr.String())
	}
	if took > 2*time.Second {
		t.Errorf("the run took %v to stop after SIGINT, want at most 2 s", took)
	}
	if !strings.Contains(stderr.String(), "interrupted; rerun the same command to resume") {
		t.Errorf("stderr does not say how to resume:\n%s", stderr.String())
	}
	if _, err := os.Stat(round1); err != nil {
		t.Errorf("the first round's checkpoint is gone: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the interrupted run wrote its output")
	}
	if _, err := run(t, args(out)...); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Errorf("the resumed run wrote %d bytes that differ from the uninterrupted run's %d", len(b), len(a))
	}
	t.Logf("stopped %v after SIGINT; resumed file identical (%d bytes)", took.Round(time.Millisecond), len(a))
}
