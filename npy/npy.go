// Package npy reads and writes NumPy's .npy array files, as specified in
// "A simple file format for NumPy arrays"
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
//
// A file is the magic string "\x93NUMPY", a major and minor version byte
// (1.0, 2.0 or 3.0), the length of the header (2 bytes little-endian in
// version 1.0, 4 bytes in 2.0 and 3.0), the header — a Python literal
// dictionary {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by a newline — and then the elements in
// row-major (C) order.
//
// Readers accept the element types <f2, <f4, <f8, |i1, <i2, <i4, <i8,
// |u1, <u2, <u4, <u8 and |b1 in either byte order, and convert them to
// float32 or int64 as the caller asks. Fortran-ordered arrays, structured
// dtypes, strings and objects are refused with an *UnsupportedError; a
// malformed file gives a *FormatError that says at which byte. Every size
// the header declares is checked for overflow, against the bytes actually
// present (when the reader can tell) and against the process memory budget
// (package budget) before anything is allocated, so a hostile header
// cannot make a reader allocate more than the data it carries.
//
// Writers produce version 1.0 files with the header padded as NumPy pads
// it, byte for byte identical to numpy.save's output.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

// Magic is the first six bytes of every .npy file.
const Magic = "\x93NUMPY"

// MaxHeaderLen bounds the header a reader accepts (NumPy's own reader
// refuses headers over 10000 bytes by default).
const MaxHeaderLen = 1 << 16

// FormatError reports a malformed file: what is wrong and the byte offset,
// from the start of the file, where it was found.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("npy: invalid format at byte %d: %s", e.Offset, e.Msg)
}

// UnsupportedError reports a valid file that uses a feature this package
// does not read (Fortran order, a structured or string dtype, ...).
type UnsupportedError struct {
	Offset int64
	Msg    string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("npy: unsupported at byte %d: %s", e.Offset, e.Msg)
}

// DType is the element type of a file.
type DType struct {
	Kind      byte // 'f' float, 'i' signed integer, 'u' unsigned integer, 'b' bool
	Size      int  // bytes per element: 1, 2, 4 or 8
	BigEndian bool
}

// String writes the type as NumPy's descr does, e.g. "<f4" or "|u1".
func (d DType) String() string {
	order := "<"
	switch {
	case d.Size == 1:
		order = "|"
	case d.BigEndian:
		order = ">"
	}
	return order + string(d.Kind) + strconv.Itoa(d.Size)
}

// IsFloat reports whether the elements are floating point.
func (d DType) IsFloat() bool { return d.Kind == 'f' }

// parseDescr reads a descr string such as "<f4".
func parseDescr(s string, at int64) (DType, error) {
	unsupported := func() (DType, error) {
		return DType{}, &UnsupportedError{Offset: at, Msg: fmt.Sprintf("element type %q (supported: <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1, either byte order)", s)}
	}
	if len(s) != 3 {
		return unsupported()
	}
	d := DType{Kind: s[1], Size: int(s[2] - '0')}
	ok := false
	switch d.Kind {
	case 'f':
		ok = d.Size == 2 || d.Size == 4 || d.Size == 8
	case 'i', 'u':
		ok = d.Size == 1 || d.Size == 2 || d.Size == 4 || d.Size == 8
	case 'b':
		ok = d.Size == 1
	}
	if !ok {
		return unsupported()
	}
	switch s[0] {
	case '<':
	case '>':
		d.BigEndian = d.Size > 1
	case '|':
		if d.Size != 1 {
			return DType{}, &FormatError{Offset: at, Msg: fmt.Sprintf("element type %q: '|' (no byte order) is only for one-byte types", s)}
		}
	default:
		return unsupported()
	}
	return d, nil
}

// Array is an array read from a file. Floating-point files fill F
// (converted to float32); integer and bool files fill I (int64, bools as
// 0 and 1).
type Array struct {
	Shape []int
	DType DType // the element type in the file
	F     []float32
	I     []int64
}

// Len is the number of elements, the product of the shape.
func (a *Array) Len() int {
	if a.DType.IsFloat() {
		return len(a.F)
	}
	return len(a.I)
}

// prelude is what precedes the data: the version and the parsed header.
type prelude struct {
	major   byte
	header  *header
	dtype   DType
	n       int64 // elements
	dataOff int64 // offset of the first data byte
}

// readPrelude reads the magic, version and header, without reading past
// the header, and checks the shape's element count for overflow.
func readPrelude(r io.Reader) (*prelude, error) {
	var fixed [8]byte
	if n, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, truncated(err, int64(n), "the magic string and version")
	}
	if string(fixed[:6]) != Magic {
		return nil, &FormatError{Offset: 0, Msg: "not a .npy file (no \\x93NUMPY magic string)"}
	}
	pre := &prelude{major: fixed[6]}
	var lenSize int
	switch fixed[6] {
	case 1:
		lenSize = 2
	case 2, 3:
		lenSize = 4
	default:
		return nil, &UnsupportedError{Offset: 6, Msg: fmt.Sprintf("format version %d.%d (want 1.0, 2.0 or 3.0)", fixed[6], fixed[7])}
	}
	if fixed[7] != 0 {
		return nil, &UnsupportedError{Offset: 7, Msg: fmt.Sprintf("format version %d.%d (want 1.0, 2.0 or 3.0)", fixed[6], fixed[7])}
	}
	var lb [4]byte
	if n, err := io.ReadFull(r, lb[:lenSize]); err != nil {
		return nil, truncated(err, 8+int64(n), "the header length")
	}
	hlen := int64(binary.LittleEndian.Uint16(lb[:2]))
	if lenSize == 4 {
		hlen = int64(binary.LittleEndian.Uint32(lb[:]))
	}
	start := 8 + int64(lenSize)
	if hlen > MaxHeaderLen {
		return nil, &FormatError{Offset: 8, Msg: fmt.Sprintf("header length %d is over the %d-byte limit", hlen, MaxHeaderLen)}
	}
	hb := make([]byte, hlen)
	if n, err := io.ReadFull(r, hb); err != nil {
		return nil, truncated(err, start+int64(n), fmt.Sprintf("the %d-byte header", hlen))
	}
	if pre.major < 3 {
		for i, c := range hb {
			if c >= 0x80 {
				return nil, &FormatError{Offset: start + int64(i), Msg: fmt.Sprintf("non-ASCII byte 0x%02x in a version %d.0 header", c, pre.major)}
			}
		}
	} else if i := invalidUTF8(hb); i >= 0 {
		return nil, &FormatError{Offset: start + int64(i), Msg: "header is not valid UTF-8"}
	}
	if len(hb) == 0 || hb[len(hb)-1] != '\n' {
		return nil, &FormatError{Offset: start + hlen - 1, Msg: "header does not end with a newline"}
	}
	h, err := parseHeader(string(hb), start)
	if err != nil {
		return nil, err
	}
	descrAt := start + int64(strings.Index(string(hb), h.descr)) // for messages only
	if pre.dtype, err = parseDescr(h.descr, descrAt); err != nil {
		return nil, err
	}
	if h.fortran {
		return nil, &UnsupportedError{Offset: start, Msg: "fortran_order True (save the array in C order, e.g. numpy.ascontiguousarray)"}
	}
	if pre.n, err = budget.Elems(h.shape...); err != nil {
		return nil, &FormatError{Offset: start, Msg: err.Error()}
	}
	if _, ok := budget.Mul(pre.n, int64(pre.dtype.Size)); !ok {
		return nil, &FormatError{Offset: start, Msg: fmt.Sprintf("shape %s of %s overflows int64 bytes", budget.Shape(h.shape), h.descr)}
	}
	pre.header = h
	pre.dataOff = start + hlen
	return pre, nil
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// truncated turns a short read into a FormatError at offset, and passes
// other read errors through.
func truncated(err error, offset int64, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FormatError{Offset: offset, Msg: "file ends inside " + what}
	}
	return fmt.Errorf("npy: reading %s: %w", what, err)
}

// remaining returns how many bytes r still holds, when r can tell without
// consuming them: *bytes.Reader, *strings.Reader, *bytes.Buffer, and
// seekable readers such as regular files. It is only a hint: a file may
// say less than it holds (as /proc files do) or change while read.
func remaining(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case *bytes.Reader:
		return int64(v.Len()), true
	case *strings.Reader:
		return int64(v.Len()), true
	case *bytes.Buffer:
		return int64(v.Len()), true
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, false
		}
		end, err := v.Seek(0, io.SeekEnd)
		if _, err2 := v.Seek(cur, io.SeekStart); err != nil || err2 != nil || end < cur {
			return 0, false
		}
		return end - cur, true
	}
	return 0, false
}

// Read reads an array, keeping floats as float32 (Array.F) and integers
// and bools as int64 (Array.I). It reads exactly the header and the data
// and nothing after them.
func Read(r io.Reader) (*Array, error) {
	pre, err := readPrelude(r)
	if err != nil {
		return nil, err
	}
	a := &Array{Shape: pre.header.shape, DType: pre.dtype}
	if pre.dtype.IsFloat() {
		a.F, err = readData(r, pre, convFloat)
	} else {
		a.I, err = readData(r, pre, convInt)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ReadFloat32 reads an array of any supported element type as float32
// (float64 rounded, integers converted to the nearest float32).
func ReadFloat32(r io.Reader) (shape []int, data []float32, err error) {
	pre, err := readPrelude(r)
	if err != nil {
		return nil, nil, err
	}
	data, err = readData(r, pre, convFloat)
	if err != nil {
		return nil, nil, err
	}
	return pre.header.shape, data, nil
}

// ReadInt64 reads an array of integers or bools as int64. Float files are
// accepted when every value is an integer within int64's range; uint64
// values over MaxInt64 are an error.
func ReadInt64(r io.Reader) (shape []int, data []int64, err error) {
	pre, err := readPrelude(r)
	if err != nil {
		return nil, nil, err
	}
	data, err = readData(r, pre, convInt)
	if err != nil {
		return nil, nil, err
	}
	return pre.header.shape, data, nil
}

// ReadFile reads the array in the file at path (see Read).
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	a, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ReadFloat32File reads the array in the file at path as float32 (see
// ReadFloat32).
func ReadFloat32File(path string) (shape []int, data []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	shape, data, err = ReadFloat32(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return shape, data, nil
}

// chunkBytes is how much raw data is read and converted at a time.
const chunkBytes = 64 << 10

// converter turns raw elements of dtype d into dst (len(dst) elements from
// raw), or reports the index within dst of a value it cannot represent.
type converter[T float32 | int64] func(dst []T, raw []byte, d DType) (bad int, err error)

// readData reads pre.n elements. The byte count is checked against the
// memory budget first. When the reader can tell that it holds all the
// data, the result is allocated at once; otherwise it grows as the data
// actually arrives, so a header that lies about its shape costs at most
// about twice the bytes the file carries.
func readData[T float32 | int64](r io.Reader, pre *prelude, conv converter[T]) ([]T, error) {
	var zero T
	outSize := int64(binary.Size(zero))
	d, n := pre.dtype, pre.n
	what := fmt.Sprintf("npy array %s of %s", budget.Shape(pre.header.shape), d)
	if err := budget.Default.Check(what, n, outSize); err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	need := n * int64(d.Size) // no overflow: checked in readPrelude
	if left, ok := remaining(r); ok && left >= need {
		out := make([]T, n)
		if err := fill(io.LimitReader(r, need), pre, out, 0, conv); err != nil {
			return nil, err
		}
		return out, nil
	}
	// Unknown length, or less than the header declares (then the error
	// comes when the data ends): grow with the data.
	out := make([]T, 0, min(n, chunkBytes))
	for int64(len(out)) < n {
		if len(out) == cap(out) {
			grown := make([]T, len(out), min(n, max(2*int64(cap(out)), chunkBytes)))
			copy(grown, out)
			out = grown
		}
		lo := len(out)
		out = out[:cap(out)]
		if err := fill(r, pre, out[lo:], int64(lo), conv); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fill reads len(out) elements, which start at element first, into out.
func fill[T float32 | int64](r io.Reader, pre *prelude, out []T, first int64, conv converter[T]) error {
	d := pre.dtype
	per := chunkBytes / d.Size
	buf := make([]byte, min(int64(len(out)), int64(per))*int64(d.Size))
	for i := 0; i < len(out); {
		k := min(len(out)-i, per)
		raw := buf[:k*d.Size]
		at := pre.dataOff + (first+int64(i))*int64(d.Size)
		if got, err := io.ReadFull(r, raw); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return &FormatError{Offset: at + int64(got), Msg: fmt.Sprintf("file ends inside the data: shape %s of %s needs %d bytes", budget.Shape(pre.header.shape), d, pre.n*int64(d.Size))}
			}
			return fmt.Errorf("npy: reading the data: %w", err)
		}
		if bad, err := conv(out[i:i+k], raw, d); err != nil {
			return &FormatError{Offset: at + int64(bad*d.Size), Msg: err.Error()}
		}
		i += k
	}
	return nil
}

func order(d DType) binary.ByteOrder {
	if d.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// convFloat converts raw elements to float32.
func convFloat(dst []float32, raw []byte, d DType) (int, error) {
	bo := order(d)
	switch {
	case d.Kind == 'f' && d.Size == 4 && !d.BigEndian: // the common case
		raw = raw[:4*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case d.Kind == 'f' && d.Size == 4:
		for i := range dst {
			dst[i] = math.Float32frombits(bo.Uint32(raw[4*i:]))
		}
	case d.Kind == 'f' && d.Size == 8:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(bo.Uint64(raw[8*i:])))
		}
	case d.Kind == 'f' && d.Size == 2:
		for i := range dst {
			dst[i] = halfToFloat(bo.Uint16(raw[2*i:]))
		}
	case d.Kind == 'u' && d.Size == 8:
		for i := range dst {
			dst[i] = float32(bo.Uint64(raw[8*i:]))
		}
	default:
		tmp := make([]int64, len(dst))
		if bad, err := convInt(tmp, raw, d); err != nil {
			return bad, err
		}
		for i, v := range tmp {
			dst[i] = float32(v)
		}
	}
	return 0, nil
}

// convInt converts raw elements to int64; floats must hold integers.
func convInt(dst []int64, raw []byte, d DType) (int, error) {
	bo := order(d)
	switch {
	case d.Kind == 'b':
		for i := range dst {
			if raw[i] > 1 {
				return i, fmt.Errorf("bool byte 0x%02x is neither 0 nor 1", raw[i])
			}
			dst[i] = int64(raw[i])
		}
	case d.Kind == 'i' && d.Size == 1:
		for i := range dst {
			dst[i] = int64(int8(raw[i]))
		}
	case d.Kind == 'u' && d.Size == 1:
		for i := range dst {
			dst[i] = int64(raw[i])
		}
	case d.Kind == 'i' && d.Size == 2:
		for i := range dst {
			dst[i] = int64(int16(bo.Uint16(raw[2*i:])))
		}
	case d.Kind == 'u' && d.Size == 2:
		for i := range dst {
			dst[i] = int64(bo.Uint16(raw[2*i:]))
		}
	case d.Kind == 'i' && d.Size == 4:
		for i := range dst {
			dst[i] = int64(int32(bo.Uint32(raw[4*i:])))
		}
	case d.Kind == 'u' && d.Size == 4:
		for i := range dst {
			dst[i] = int64(bo.Uint32(raw[4*i:]))
		}
	case d.Kind == 'i' && d.Size == 8:
		for i := range dst {
			dst[i] = int64(bo.Uint64(raw[8*i:]))
		}
	case d.Kind == 'u' && d.Size == 8:
		for i := range dst {
			v := bo.Uint64(raw[8*i:])
			if v > math.MaxInt64 {
				return i, fmt.Errorf("uint64 value %d does not fit int64", v)
			}
			dst[i] = int64(v)
		}
	case d.Kind == 'f':
		tmp := make([]float64, len(dst))
		for i := range dst {
			switch d.Size {
			case 2:
				tmp[i] = float64(halfToFloat(bo.Uint16(raw[2*i:])))
			case 4:
				tmp[i] = float64(math.Float32frombits(bo.Uint32(raw[4*i:])))
			default:
				tmp[i] = math.Float64frombits(bo.Uint64(raw[8*i:]))
			}
		}
		for i, v := range tmp {
			// -2^63 <= v < 2^63, exactly representable bounds.
			if v != math.Trunc(v) || v < -(1<<63) || v >= 1<<63 {
				return i, fmt.Errorf("%s value %v is not an integer within int64's range", d, v)
			}
			dst[i] = int64(v)
		}
	}
	return 0, nil
}

// halfToFloat converts an IEEE 754 binary16 value to float32 exactly
// (subnormals, infinities and NaNs included).
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// headerBytes builds a version 1.0 prelude exactly as numpy.save does:
// the dictionary's keys sorted, the shape followed by room for its first
// dimension to grow to 21 digits, the whole padded with spaces and a
// newline to a multiple of 64 bytes.
func headerBytes(descr string, shape []int) ([]byte, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr)
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %s", budget.Shape(shape))
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sb.WriteByte(',')
	}
	sb.WriteString("), }")
	if len(shape) > 0 {
		const growthAxisMaxDigits = 21
		sb.WriteString(strings.Repeat(" ", max(0, growthAxisMaxDigits-len(strconv.Itoa(shape[0])))))
	}
	hlen := sb.Len() + 1
	pad := 64 - (10+hlen)%64
	if hlen+pad > math.MaxUint16 {
		return nil, fmt.Errorf("npy: header of shape %s is too long for format 1.0", budget.Shape(shape))
	}
	out := make([]byte, 0, 10+hlen+pad)
	out = append(out, Magic...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(hlen+pad))
	out = append(out, sb.String()...)
	out = append(out, bytes.Repeat([]byte{' '}, pad)...)
	return append(out, '\n'), nil
}

func checkLen(shape []int, n int) error {
	want, err := budget.Elems(shape...)
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if want != int64(n) {
		return fmt.Errorf("npy: shape %s holds %d elements, data has %d", budget.Shape(shape), want, n)
	}
	return nil
}

// WriteFloat32 writes data, of the given shape, as a version 1.0 '<f4'
// array.
func WriteFloat32(w io.Writer, shape []int, data []float32) error {
	if err := checkLen(shape, len(data)); err != nil {
		return err
	}
	h, err := headerBytes("<f4", shape)
	if err != nil {
		return err
	}
	return writeChunks(w, h, len(data), 4, func(dst []byte, lo int) {
		for i := range len(dst) / 4 {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(data[lo+i]))
		}
	})
}

// WriteInt64 writes data, of the given shape, as a version 1.0 '<i8'
// array.
func WriteInt64(w io.Writer, shape []int, data []int64) error {
	if err := checkLen(shape, len(data)); err != nil {
		return err
	}
	h, err := headerBytes("<i8", shape)
	if err != nil {
		return err
	}
	return writeChunks(w, h, len(data), 8, func(dst []byte, lo int) {
		for i := range len(dst) / 8 {
			binary.LittleEndian.PutUint64(dst[8*i:], uint64(data[lo+i]))
		}
	})
}

func writeChunks(w io.Writer, header []byte, n, size int, put func(dst []byte, lo int)) error {
	if _, err := w.Write(header); err != nil {
		return err
	}
	per := chunkBytes / size
	buf := make([]byte, min(n, per)*size)
	for lo := 0; lo < n; lo += per {
		k := min(n-lo, per)
		put(buf[:k*size], lo)
		if _, err := w.Write(buf[:k*size]); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes a float32 array to path atomically (see WriteFloat32):
// readers see the old file or the whole new one, never a part.
func WriteFile(path string, shape []int, data []float32) error {
	if err := checkLen(shape, len(data)); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		return WriteFloat32(w, slices.Clone(shape), data)
	})
}
