package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/deepcompress/deepcompress/budget"
)

var (
	baseF = []float32{-1.5, 0, 2.25, 3, -4, 65504}
	intsI = []int64{-3, -2, -1, 0, 1, 127}
	uints = []int64{0, 1, 2, 3, 200, 255}
)

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readers returns the ways a test feeds bytes: a reader that can tell its
// length, and one that cannot and delivers one byte at a time.
func readers(b []byte) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"sized":   func() io.Reader { return bytes.NewReader(b) },
		"unsized": func() io.Reader { return iotest.OneByteReader(io.MultiReader(bytes.NewReader(b))) },
	}
}

func TestReadGoldenFloats(t *testing.T) {
	halfBase := []float32{-1.5, 0, 2.25, 3, -4, 65504}
	cases := []struct {
		file  string
		shape []int
		want  []float32
		dtype string
	}{
		{"f4_2x3.npy", []int{2, 3}, baseF, "<f4"},
		{"f8_2x3.npy", []int{2, 3}, baseF, "<f8"},
		{"f2_2x3.npy", []int{2, 3}, halfBase, "<f2"},
		{"f4be_2x3.npy", []int{2, 3}, baseF, ">f4"},
		{"f4_v2.npy", []int{2, 3}, baseF, "<f4"},
		{"f4_v3.npy", []int{2, 3}, baseF, "<f4"},
		{"f4_scalar.npy", []int{}, []float32{7.5}, "<f4"},
		{"f4_empty.npy", []int{0, 3}, []float32{}, "<f4"},
		{"f4_vec.npy", []int{5}, []float32{0, 1, 2, 3, 4}, "<f4"},
		{"f4_4d.npy", []int{1, 2, 3, 4}, iota(24), "<f4"},
		{"f2_special.npy", []int{6}, []float32{65504, 1.0 / (1 << 14), 1.0 / (1 << 24), inf(1), inf(-1), negZero()}, "<f2"},
		{"i8_2x3.npy", []int{2, 3}, toF(intsI), "<i8"},
		{"u2_2x3.npy", []int{2, 3}, toF(uints), "<u2"},
		{"b1_2x3.npy", []int{2, 3}, []float32{1, 0, 1, 0, 0, 1}, "|b1"},
	}
	for _, c := range cases {
		for how, mk := range readers(readGolden(t, c.file)) {
			shape, data, err := ReadFloat32(mk())
			if err != nil {
				t.Fatalf("%s (%s): %v", c.file, how, err)
			}
			if !slices.Equal(shape, c.shape) || !sameBits(data, c.want) {
				t.Errorf("%s (%s): got %v %v, want %v %v", c.file, how, shape, data, c.shape, c.want)
			}
		}
		a, err := Read(bytes.NewReader(readGolden(t, c.file)))
		if err != nil {
			t.Fatal(err)
		}
		if a.DType.String() != c.dtype || a.Len() != len(c.want) {
			t.Errorf("%s: dtype %s len %d, want %s %d", c.file, a.DType, a.Len(), c.dtype, len(c.want))
		}
	}
}

func TestReadGoldenInts(t *testing.T) {
	cases := []struct {
		file string
		want []int64
	}{
		{"i8_2x3.npy", intsI}, {"i4_2x3.npy", intsI}, {"i2_2x3.npy", intsI}, {"i1_2x3.npy", intsI},
		{"i8be_2x3.npy", intsI},
		{"u1_2x3.npy", uints}, {"u2_2x3.npy", uints}, {"u4_2x3.npy", uints}, {"u8_2x3.npy", uints},
		{"b1_2x3.npy", []int64{1, 0, 1, 0, 0, 1}},
		{"f4_vec.npy", []int64{0, 1, 2, 3, 4}}, // integral floats convert
	}
	for _, c := range cases {
		for how, mk := range readers(readGolden(t, c.file)) {
			shape, data, err := ReadInt64(mk())
			if err != nil {
				t.Fatalf("%s (%s): %v", c.file, how, err)
			}
			if !slices.Equal(data, c.want) || len(shape) == 0 {
				t.Errorf("%s (%s): got %v %v, want %v", c.file, how, shape, data, c.want)
			}
		}
		a, err := Read(bytes.NewReader(readGolden(t, c.file)))
		if err != nil {
			t.Fatal(err)
		}
		if !a.DType.IsFloat() && !slices.Equal(a.I, c.want) {
			t.Errorf("%s: Read gives %v", c.file, a.I)
		}
	}
	// A float that is not an integer is refused by ReadInt64.
	_, _, err := ReadInt64(bytes.NewReader(readGolden(t, "f4_2x3.npy")))
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "-1.5") {
		t.Errorf("ReadInt64 of non-integral floats: %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	for file, want := range map[string]string{
		"f4_fortran.npy": "fortran_order",
		"structured.npy": "structured",
		"unicode.npy":    "<U2",
		"c8.npy":         "<c8",
	} {
		_, err := Read(bytes.NewReader(readGolden(t, file)))
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an UnsupportedError mentioning %q", file, err, want)
		}
	}
}

// TestWriteMatchesNumPy checks that WriteFloat32 writes numpy.save's bytes.
func TestWriteMatchesNumPy(t *testing.T) {
	for _, c := range []struct {
		file  string
		shape []int
		data  []float32
	}{
		{"f4_2x3.npy", []int{2, 3}, baseF},
		{"f4_scalar.npy", []int{}, []float32{7.5}},
		{"f4_empty.npy", []int{0, 3}, []float32{}},
		{"f4_vec.npy", []int{5}, []float32{0, 1, 2, 3, 4}},
		{"f4_4d.npy", []int{1, 2, 3, 4}, iota(24)},
	} {
		var buf bytes.Buffer
		if err := WriteFloat32(&buf, c.shape, c.data); err != nil {
			t.Fatal(err)
		}
		if want := readGolden(t, c.file); !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: wrote\n%q\nnumpy wrote\n%q", c.file, buf.Bytes(), want)
		}
	}
	var buf bytes.Buffer
	if err := WriteInt64(&buf, []int{2, 3}, intsI); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), readGolden(t, "i8_2x3.npy")) {
		t.Errorf("WriteInt64 differs from numpy")
	}
}

func TestWriteErrors(t *testing.T) {
	if err := WriteFloat32(io.Discard, []int{2, 2}, make([]float32, 3)); err == nil {
		t.Error("shape and length disagree: no error")
	}
	if err := WriteFloat32(io.Discard, []int{-1}, nil); err == nil {
		t.Error("negative dimension: no error")
	}
}

func TestWriteFileRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.npy")
	data := make([]float32, 3*100000) // more than one chunk
	for i := range data {
		data[i] = float32(i) * 0.25
	}
	if err := WriteFile(p, []int{3, 100000}, data); err != nil {
		t.Fatal(err)
	}
	shape, got, err := ReadFloat32File(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{3, 100000}) || !slices.Equal(got, data) {
		t.Fatal("round trip differs")
	}
	// Through a reader that cannot tell its length.
	f, _ := os.Open(p)
	defer f.Close()
	_, got2, err := ReadFloat32(iotest.HalfReader(struct{ io.Reader }{f}))
	if err != nil || !slices.Equal(got2, data) {
		t.Fatalf("unsized read: %v", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none.npy")); err == nil {
		t.Error("missing file: no error")
	}
}

// fileWith builds a version 1.0 file with the given header text and data.
func fileWith(h string, data []byte) []byte {
	h += "\n"
	b := append([]byte(Magic), 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(append(b, h...), data...)
}

func TestMalformed(t *testing.T) {
	f4 := func(n int) []byte { return make([]byte, 4*n) }
	cases := []struct {
		name string
		file []byte
		want string
		at   int64 // -1: don't check
	}{
		{"empty", nil, "magic", 0},
		{"bad magic", []byte("\x93NUMPZ\x01\x00"), "magic", 0},
		{"version", append([]byte(Magic), 4, 0), "version 4.0", 6},
		{"minor", append([]byte(Magic), 1, 1), "version 1.1", 7},
		{"short length", append([]byte(Magic), 1, 0, 5), "header length", 9},
		{"short header", append(append([]byte(Magic), 1, 0, 50, 0), "{'descr'"...), "50-byte header", 18},
		{"no newline", append(append([]byte(Magic), 1, 0, 2, 0), "{}"...), "newline", 11},
		{"empty dict", fileWith("{}", nil), "no \"descr\"", -1},
		{"missing shape", fileWith("{'descr': '<f4', 'fortran_order': False}", nil), "no \"shape\"", -1},
		{"extra key", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", nil), "want a string, True", -1},
		{"extra key str", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 'y'}", nil), "unknown key \"x\"", -1},
		{"dup key", fileWith("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", nil), "twice", 27},
		{"one-tuple", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", f4(3)), "not a tuple", 60},
		{"negative", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", nil), "non-negative", 61},
		{"leading zero", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (03,)}", nil), "leading zero", 61},
		{"float dim", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,)}", nil), "want ','", 62},
		{"huge dim", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}", nil), "too large", 61},
		{"overflow", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", nil), "overflow", -1},
		{"bytes overflow", fileWith("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", nil), "overflow", -1},
		{"truncated data", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", f4(5)), "needs 24 bytes", -1},
		{"trailing junk", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", f4(1)), "after the dictionary", -1},
		{"bad bool", fileWith("{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}", f4(1)), "want a string, True", -1},
		{"Truex", fileWith("{'descr': '<f4', 'fortran_order': Truex, 'shape': ()}", f4(1)), "unexpected", -1},
		{"shape string", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': '3'}", f4(1)), "shape must be a tuple", -1},
		{"descr bool", fileWith("{'descr': True, 'fortran_order': False, 'shape': ()}", f4(1)), "descr must be a string", -1},
		{"bar f4", fileWith("{'descr': '|f4', 'fortran_order': False, 'shape': ()}", f4(1)), "only for one-byte", -1},
		{"unterminated", fileWith("{'descr': '<f4", nil), "line breaks", 24},
		{"escape", fileWith("{'descr': '<f\\x34', 'fortran_order': False, 'shape': ()}", f4(1)), "escapes", -1},
		{"bad bool byte", fileWith("{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}", []byte{1, 7}), "0x07", 67},
		{"non-ascii", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (),'é':1}", nil), "non-ASCII", -1},
		{"too many dims", fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': ("+strings.Repeat("1,", 65)+")}", nil), "more than 64", -1},
	}
	for _, c := range cases {
		for how, mk := range readers(c.file) {
			_, err := Read(mk())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (%s): got %v, want an error with %q", c.name, how, err, c.want)
				continue
			}
			var fe *FormatError
			var ue *UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) {
				t.Errorf("%s: %T is neither a FormatError nor an UnsupportedError", c.name, err)
			}
			if fe != nil && c.at >= 0 && fe.Offset != c.at {
				t.Errorf("%s (%s): offset %d, want %d (%v)", c.name, how, fe.Offset, c.at, err)
			}
		}
	}
}

func TestAcceptedVariants(t *testing.T) {
	one := binary.LittleEndian.AppendUint32(nil, math.Float32bits(2))
	for name, h := range map[string]string{
		"double quotes":   `{"descr": "<f4", "fortran_order": False, "shape": (1,)}`,
		"python2 long":    "{'descr': '<f4', 'fortran_order': False, 'shape': (1L,), }",
		"no trailing":     "{'shape': (1,), 'fortran_order': False, 'descr': '<f4'}",
		"spaces":          "  { 'descr' : '<f4' ,\t'fortran_order' : False , 'shape' : ( 1 , ) , }   ",
		"trailing tuple,": "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1,)}",
	} {
		_, data, err := ReadFloat32(bytes.NewReader(fileWith(h, one)))
		if err != nil || len(data) != 1 || data[0] != 2 {
			t.Errorf("%s: %v %v", name, data, err)
		}
	}
}

func TestBudget(t *testing.T) {
	old := budget.Default.Limit()
	defer budget.Default.SetLimit(old)
	budget.Default.SetLimit(1000)
	h := fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,)}", make([]byte, 4000))
	_, _, err := ReadFloat32(bytes.NewReader(h))
	var ee *budget.ExceededError
	if !errors.As(err, &ee) {
		t.Fatalf("over the budget: %v", err)
	}
}

// TestLyingHeader: a header that declares far more than the data holds
// must fail without allocating what it declares.
func TestLyingHeader(t *testing.T) {
	h := fileWith("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,)}", make([]byte, 40))
	for how, mk := range readers(h) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := ReadFloat32(mk())
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "file ends inside the data") {
			t.Errorf("%s: %v", how, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: a 40-byte file declaring 400 MB allocated %d bytes", how, n)
		}
	}
}

func TestHalf(t *testing.T) {
	// Every finite binary16 value converts exactly: compare with a slow
	// reference, value = (-1)^s * 2^(e-15) * (1 + f/1024), subnormals
	// 2^-14 * f/1024.
	for h := range 1 << 16 {
		e, f := (h>>10)&0x1f, h&0x3ff
		if e == 0x1f {
			v := halfToFloat(uint16(h))
			if f == 0 && !math.IsInf(float64(v), 0) || f != 0 && !math.IsNaN(float64(v)) {
				t.Fatalf("%04x: %v", h, v)
			}
			continue
		}
		var ref float64
		if e == 0 {
			ref = math.Ldexp(float64(f)/1024, -14)
		} else {
			ref = math.Ldexp(1+float64(f)/1024, e-15)
		}
		if h>>15 == 1 {
			ref = -ref
		}
		if got := halfToFloat(uint16(h)); float64(got) != ref || math.Signbit(float64(got)) != (h>>15 == 1) {
			t.Fatalf("%04x: %v, want %v", h, got, ref)
		}
	}
}

func iota(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i)
	}
	return out
}

func toF(v []int64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func inf(s int) float32 { return float32(math.Inf(s)) }
func negZero() float32  { return float32(math.Copysign(0, -1)) }
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

func ExampleWriteFloat32() {
	var buf bytes.Buffer
	if err := WriteFloat32(&buf, []int{2, 2}, []float32{1, 2, 3, 4}); err != nil {
		panic(err)
	}
	shape, data, err := ReadFloat32(&buf)
	if err != nil {
		panic(err)
	}
	fmt.Println(shape, data)
	// Output: [2 2] [1 2 3 4]
}

func BenchmarkReadFloat32(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteFloat32(&buf, []int{1 << 20}, make([]float32, 1<<20)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for range b.N {
		if _, _, err := ReadFloat32(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
