package modelfile

import (
	"path/filepath"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/internal/testmodel"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/nn"
)

// wantCorrect is the exact test-set count stated in lenet300.json.
const wantCorrect = 9825

func testSet(t *testing.T) nn.Dataset {
	t.Helper()
	s, err := mnist.LoadTest("")
	if err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	return nn.Dataset{X: s.Normalized(mnist.Mean, mnist.Std), Labels: s.Labels, Dim: s.ImageSize()}
}

func TestReferenceModelsScoreAsStated(t *testing.T) {
	for _, tc := range []struct {
		file string
		opt  Options
	}{
		{"lenet300.onnx", Options{}},
		{"lenet300.safetensors", Options{Arch: "lenet300"}},
	} {
		m, err := Load(testmodel.Path(t, tc.file), tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := nn.Evaluate(m, testSet(t), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantCorrect {
			t.Errorf("%s: %d/10000 correct, the sidecar says %d", tc.file, got, wantCorrect)
		}
	}
}

func TestSafetensorsWithoutArch(t *testing.T) {
	path := testmodel.Path(t, "lenet300.safetensors")
	if _, err := Load(path, Options{}); err == nil {
		t.Error("a safetensors file with no recorded architecture loaded without --arch")
	}
	if _, err := Load(path, Options{Arch: "lenet5"}); err == nil {
		t.Error("lenet300 weights loaded as lenet5")
	}
}

func TestCheckpointRoundTripKeepsMasks(t *testing.T) {
	m, err := nn.New(arch.LeNet5(), 4)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Param("fc1.weight")
	mask := make([]float32, len(w.Data))
	for i := range mask {
		mask[i] = float32(i % 3 / 2)
	}
	w.SetMask(mask)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveCheckpoint(path, m, nil); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Spec.JSON()) != string(m.Spec.JSON()) {
		t.Errorf("architecture changed: %s", back.Spec.JSON())
	}
	for _, p := range m.Params() {
		q := back.Param(p.Name)
		for i := range p.Data {
			if p.Data[i] != q.Data[i] {
				t.Fatalf("%s[%d] changed", p.Name, i)
			}
		}
	}
	if back.Param("fc1.weight").Kept() != w.Kept() {
		t.Errorf("mask not recovered: kept %d, want %d", back.Param("fc1.weight").Kept(), w.Kept())
	}
	if _, err := Load(filepath.Join(t.TempDir(), "x.bin"), Options{}); err == nil {
		t.Error("unknown extension accepted")
	}
}
