// Package testmodel finds the reference models that tests read: the trained
// LeNet-300-100 exported from PyTorch (lenet300.onnx, lenet300.safetensors),
// committed under testdata/models (a copy of ../shared/models, so that a
// clean clone tests alone), or in the folder named by $DEEPCOMPRESS_MODELS. The tests that read them check figures only a trained
// network gives (the paper's 40x, the sidecar's 9825 correct), so a missing
// model fails the test, with where it was looked for: no test passes by
// skipping.
package testmodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names the environment variable that overrides the folder.
const EnvDir = "DEEPCOMPRESS_MODELS"

// Path returns the path of the reference model file name (such as
// "lenet300.safetensors"), failing tb when it is not there.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	p, err := Find(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Find looks for name in $DEEPCOMPRESS_MODELS, else in testdata/models at
// the module root (the nearest folder above the working directory that holds
// go.mod), for callers that have no test to fail (helpers run once,
// benchmarks).
func Find(name string) (string, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "testdata", "models")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("reference model %s: %w (it lives in testdata/models; $%s names another folder)", name, err, EnvDir)
	}
	return p, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("testmodel: no go.mod above the working directory")
		}
		dir = up
	}
}
