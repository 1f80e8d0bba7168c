package dcz

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// seedFiles are valid and broken files for the fuzz corpus.
func seedFiles(tb testing.TB) map[string][]byte {
	tiny := encode(tb, tinyModel())
	small := encode(tb, smallModel())
	flipped := bytes.Clone(small)
	flipped[len(flipped)/2] ^= 4
	return map[string][]byte{
		"tiny":      tiny,
		"small":     small,
		"truncated": small[:len(small)*2/3],
		"flipped":   flipped,
		"header":    tiny[:5],
		"tensors":   encode(tb, tensorsOnlyModel()),
	}
}

// TestWriteSeeds writes the seed corpus with -update.
func TestWriteSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seedFiles(t) {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzRead feeds arbitrary files to Read: it must not panic, and a model
// it accepts must write and read back unchanged.
func FuzzRead(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Write(&b, m); err != nil {
			t.Fatalf("writing an accepted model: %v", err)
		}
		back, err := Read(&b)
		if err != nil {
			t.Fatalf("reading the rewritten model: %v", err)
		}
		if err := equalModels(m, back); err != nil {
			t.Fatal(err)
		}
	})
}
