package dcz

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
)

// seedFiles are valid and broken files for the fuzz corpus.
func seedFiles(tb testing.TB) map[string][]byte {
	tiny := encode(tb, tinyModel())
	small := encode(tb, smallModel())
	flipped := bytes.Clone(small)
	flipped[len(flipped)/2] ^= 4
	return map[string][]byte{
		"tiny":       tiny,
		"small":      small,
		"truncated":  small[:len(small)*2/3],
		"flipped":    flipped,
		"header":     tiny[:5],
		"tensors":    encode(tb, tensorsOnlyModel()),
		"half":       encode(tb, halfTiny(tb)),
		"arith":      encode(tb, arithModel(tinyModel(), CoderArith)),
		"arithsmall": encode(tb, arithModel(smallModel(), CoderArith)),
	}
}

// TestWriteSeeds checks that testdata/fuzz holds the seed corpus as the
// encoder writes it today, and rewrites it with -update.
func TestWriteSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range seedFiles(t) {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		path := filepath.Join(dir, name)
		if !*update {
			if old, err := os.ReadFile(path); err != nil || string(old) != data {
				t.Errorf("%s is not the seed the encoder writes now (%v); rewrite the corpus with go test -run TestWriteSeeds -update", path, err)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
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

// FuzzReadBehindChecksums is FuzzRead with the checksums repaired after
// each mutation (FixChecksums), so that mutations reach the section
// parsers, Huffman decoders and gap decoders instead of stopping at the
// first CRC.
func FuzzReadBehindChecksums(f *testing.F) {
	// Accepted files stay small, so that each run takes milliseconds.
	defer budget.Default.SetLimit(budget.Default.Limit())
	budget.Default.SetLimit(64 << 20)
	// Small seeds: the fuzzer minimises every new input it finds, which
	// is slow on large ones.
	f.Add(encode(f, tinyModel()))
	f.Add(encode(f, tensorsOnlyModel()))
	f.Add(encode(f, halfTiny(f)))
	f.Add(encode(f, arithModel(tinyModel(), CoderArith)))
	f.Fuzz(func(t *testing.T, data []byte) {
		data = FixChecksums(bytes.Clone(data))
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

// TestFixChecksums: a file whose bytes changed reads again once its
// checksums are repaired, and a valid file is left unchanged.
func TestFixChecksums(t *testing.T) {
	good := encode(t, smallModel())
	if !bytes.Equal(FixChecksums(bytes.Clone(good)), good) {
		t.Fatal("FixChecksums changed a valid file")
	}
	bad := bytes.Clone(good)
	bad[len(bad)-6] ^= 1 // inside the last tensor section's checksum or body
	bad[6+1+2] ^= 0      // no-op keeps the header
	if _, err := Read(bytes.NewReader(FixChecksums(bad))); err != nil && errors.Is(err, ErrChecksum) {
		t.Fatalf("checksum error after repair: %v", err)
	}
}
