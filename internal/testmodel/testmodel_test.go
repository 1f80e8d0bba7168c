package testmodel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindsSharedModel(t *testing.T) {
	p := Path(t, "lenet300.safetensors")
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("testdata", "models", "lenet300.safetensors")
	if os.Getenv(EnvDir) != "" {
		want = filepath.Join(os.Getenv(EnvDir), "lenet300.safetensors")
	}
	if !strings.HasSuffix(p, want) {
		t.Errorf("path %s, want one ending in %s", p, want)
	}
}

func TestMissingModelNamesTheFolder(t *testing.T) {
	t.Setenv(EnvDir, t.TempDir())
	_, err := Find("lenet300.onnx")
	if err == nil || !strings.Contains(err.Error(), "testdata/models") || !strings.Contains(err.Error(), EnvDir) {
		t.Errorf("error %v does not say where the model lives", err)
	}
	t.Setenv(EnvDir, "")
	if _, err := Find("no-such-model.onnx"); err == nil {
		t.Error("a missing model was found")
	}
}
