package npy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/deepcompress/deepcompress/budget"
)

// FuzzRead feeds arbitrary bytes to the readers: they must never panic,
// never allocate beyond the budget, agree between a reader that can tell
// its length and one that cannot, and float32 arrays must survive a write
// and a second read bit for bit.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,)}", make([]byte, 16)))
	old := budget.Default.Limit()
	budget.Default.SetLimit(64 << 20)
	defer budget.Default.SetLimit(old)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		a2, err2 := Read(iotest.HalfReader(io.MultiReader(bytes.NewReader(b))))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("sized and unsized readers disagree: %v / %v", err, err2)
		}
		if err != nil {
			var fe *FormatError
			var ue *UnsupportedError
			var be *budget.ExceededError
			if !errors.As(err, &fe) && !errors.As(err, &ue) && !errors.As(err, &be) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		n, err := budget.Elems(a.Shape...)
		if err != nil || n != int64(a.Len()) {
			t.Fatalf("shape %v, %d elements", a.Shape, a.Len())
		}
		if !slices.Equal(a.I, a2.I) || !sameBits(a.F, a2.F) {
			t.Fatal("sized and unsized readers read different data")
		}
		_, fl, err := ReadFloat32(bytes.NewReader(b))
		if err != nil || len(fl) != a.Len() {
			t.Fatalf("ReadFloat32 after Read succeeded: %v", err)
		}
		if !a.DType.IsFloat() {
			return
		}
		var buf bytes.Buffer
		if err := WriteFloat32(&buf, a.Shape, a.F); err != nil {
			t.Fatal(err)
		}
		shape, back, err := ReadFloat32(&buf)
		if err != nil || !slices.Equal(shape, a.Shape) || !sameBits(back, a.F) {
			t.Fatalf("write and read back: %v", err)
		}
	})
}
