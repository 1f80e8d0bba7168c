package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/deepcompress/deepcompress/budget"
)

// Reader gives access to the tensors of a file one at a time, so that a
// model larger than memory can be processed tensor by tensor.
type Reader struct {
	r        io.ReaderAt
	closer   io.Closer
	size     int64
	dataOff  int64 // file offset of the data area
	metadata map[string]string
	entries  []Entry // in data order
	index    map[string]int
}

// Open opens a safetensors file and reads its header. Close releases it.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	r, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	r.closer = f
	return r, nil
}

// NewReader reads and validates the header of the size-byte file r.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, formatErr(0, "file of %d bytes is too short for the 8-byte header length", size)
	}
	if err := readFullAt(r, lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, formatErr(0, "header length %d exceeds the %d bytes after it", n, size-8)
	}
	if n > MaxHeaderSize {
		return nil, formatErr(0, "header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	hdr := make([]byte, n)
	if err := readFullAt(r, hdr, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading header: %w", err)
	}
	rd := &Reader{r: r, size: size, dataOff: 8 + int64(n)}
	if err := rd.parseHeader(hdr); err != nil {
		return nil, err
	}
	return rd, nil
}

// rawEntry is one tensor's JSON header entry.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

func (rd *Reader) parseHeader(hdr []byte) error {
	if !utf8.Valid(hdr) {
		return formatErr(8, "header is not valid UTF-8")
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return formatErr(8, "header does not start with a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return formatErr(8, "bad JSON header: %v", err)
	}
	rd.index = map[string]int{}
	for dec.More() {
		off := 8 + dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return formatErr(off, "bad JSON header: %v", err)
		}
		name := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return formatErr(off, "bad JSON header: %v", err)
		}
		if name == metadataKey {
			if rd.metadata != nil {
				return formatErr(off, "duplicate %q", metadataKey)
			}
			if err := json.Unmarshal(raw, &rd.metadata); err != nil || rd.metadata == nil {
				return formatErr(off, "%q must be an object of strings", metadataKey)
			}
			continue
		}
		if _, dup := rd.index[name]; dup {
			return formatErr(off, "duplicate tensor %q", name)
		}
		e, err := parseEntry(name, raw)
		if _, ok := err.(*DTypeError); ok {
			return err
		} else if err != nil {
			return formatErr(off, "%v", err)
		}
		rd.index[name] = len(rd.entries)
		rd.entries = append(rd.entries, e)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return formatErr(8+dec.InputOffset(), "bad JSON header: %v", err)
	}
	if rest := hdr[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return formatErr(8+dec.InputOffset(), "unexpected bytes after the JSON header")
	}
	return rd.checkLayout()
}

func parseEntry(name string, raw json.RawMessage) (Entry, error) {
	var re rawEntry
	if err := json.Unmarshal(raw, &re); err != nil {
		return Entry{}, fmt.Errorf("tensor %q: bad entry: %v", name, err)
	}
	if name == "" {
		return Entry{}, fmt.Errorf("empty tensor name")
	}
	if re.DType == nil || re.Shape == nil || len(re.DataOffsets) != 2 {
		return Entry{}, fmt.Errorf("tensor %q: entry needs dtype, shape and two data_offsets", name)
	}
	d := DType(*re.DType)
	size := d.Size()
	if size == 0 {
		return Entry{}, &DTypeError{Tensor: name, DType: d}
	}
	// numel * size must fit in int64 with each dimension an int.
	prod := uint64(size)
	shape := make([]int, len(re.Shape))
	for i, dim := range re.Shape {
		hi, lo := bits.Mul64(prod, dim)
		if hi != 0 || lo > math.MaxInt64 {
			return Entry{}, fmt.Errorf("tensor %q: shape %s overflows", name, shapeString(re.Shape))
		}
		prod = lo
		shape[i] = int(dim)
	}
	begin, end := re.DataOffsets[0], re.DataOffsets[1]
	if begin > end || end > math.MaxInt64 {
		return Entry{}, fmt.Errorf("tensor %q: bad data_offsets [%d, %d]", name, begin, end)
	}
	if end-begin != prod {
		return Entry{}, fmt.Errorf("tensor %q: data_offsets [%d, %d] hold %d bytes, but %s %s needs %d",
			name, begin, end, end-begin, d, shapeString(re.Shape), prod)
	}
	return Entry{Info: Info{Name: name, DType: d, Shape: shape}, Begin: int64(begin), End: int64(end)}, nil
}

// checkLayout sorts the entries into data order and checks that they tile
// the data area exactly: no gap, no overlap, nothing past the end.
func (rd *Reader) checkLayout() error {
	slices.SortStableFunc(rd.entries, func(a, b Entry) int {
		if c := cmpInt64(a.Begin, b.Begin); c != 0 {
			return c
		}
		return cmpInt64(a.End, b.End)
	})
	dataLen := rd.size - rd.dataOff
	var pos int64
	for i, e := range rd.entries {
		rd.index[e.Name] = i
		switch {
		case e.Begin < pos:
			return formatErr(-1, "tensor %q at [%d, %d) overlaps the previous tensor ending at %d", e.Name, e.Begin, e.End, pos)
		case e.Begin > pos:
			return formatErr(-1, "gap in the data area before tensor %q at [%d, %d) (previous ends at %d)", e.Name, e.Begin, e.End, pos)
		case e.End > dataLen:
			return formatErr(-1, "tensor %q at [%d, %d) runs past the %d-byte data area", e.Name, e.Begin, e.End, dataLen)
		}
		pos = e.End
	}
	if pos != dataLen {
		return formatErr(rd.dataOff+pos, "%d bytes after the last tensor", dataLen-pos)
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Metadata returns the "__metadata__" map (nil when absent).
func (rd *Reader) Metadata() map[string]string { return rd.metadata }

// Entries returns the header entries in data order.
func (rd *Reader) Entries() []Entry { return rd.entries }

// DataOffset is the file offset of the data area (8 + header length).
func (rd *Reader) DataOffset() int64 { return rd.dataOff }

// Entry returns the header entry of the named tensor.
func (rd *Reader) Entry(name string) (Entry, bool) {
	i, ok := rd.index[name]
	if !ok {
		return Entry{}, false
	}
	return rd.entries[i], true
}

// ReadTensor reads one tensor, converted to float32. Its memory is the
// tensor's own size; reading is done in bounded chunks.
func (rd *Reader) ReadTensor(name string) (Tensor, error) {
	e, ok := rd.Entry(name)
	if !ok {
		return Tensor{}, fmt.Errorf("safetensors: no tensor %q", name)
	}
	if !e.DType.Convertible() {
		return Tensor{}, &DTypeError{Tensor: name, DType: e.DType}
	}
	if err := budget.Default.Check("safetensors: tensor "+name, int64(e.Numel()), 4); err != nil {
		return Tensor{}, err
	}
	data := make([]float32, e.Numel())
	size := e.DType.Size()
	chunk := make([]byte, min(int64(readChunk), e.End-e.Begin))
	per := readChunk / size
	for i := 0; i < len(data); i += per {
		n := min(per, len(data)-i)
		buf := chunk[:n*size]
		off := rd.dataOff + e.Begin + int64(i*size)
		if err := readFullAt(rd.r, buf, off); err != nil {
			return Tensor{}, fmt.Errorf("safetensors: reading tensor %q at offset %d: %w", name, off, err)
		}
		decode(e.DType, data[i:i+n], buf)
	}
	return Tensor{Name: name, Shape: slices.Clone(e.Shape), Data: data, DType: e.DType}, nil
}

// readChunk is the read buffer size of ReadTensor.
const readChunk = 1 << 16

// Close closes the underlying file when the Reader was made by Open.
func (rd *Reader) Close() error {
	if rd.closer == nil {
		return nil
	}
	return rd.closer.Close()
}

// Read reads a whole size-byte file. Every tensor must be F32, F16 or BF16.
func Read(r io.ReaderAt, size int64) (*File, error) {
	rd, err := NewReader(r, size)
	if err != nil {
		return nil, err
	}
	return rd.readAll()
}

// ReadFile reads a whole safetensors file (see Read).
func ReadFile(path string) (*File, error) {
	rd, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	f, err := rd.readAll()
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return f, nil
}

func (rd *Reader) readAll() (*File, error) {
	var total int64
	for _, e := range rd.entries { // fail before reading anything
		if !e.DType.Convertible() {
			return nil, &DTypeError{Tensor: e.Name, DType: e.DType}
		}
		total += int64(e.Numel()) // each is backed by file bytes: no overflow
	}
	if err := budget.Default.Check(fmt.Sprintf("safetensors: %d tensors as float32", len(rd.entries)), total, 4); err != nil {
		return nil, err
	}
	f := &File{Metadata: rd.metadata, Tensors: make([]Tensor, 0, len(rd.entries))}
	for _, e := range rd.entries {
		t, err := rd.ReadTensor(e.Name)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

// readFullAt fills buf from off; io.ReaderAt may report io.EOF along with a
// full read at the end of the input.
func readFullAt(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// shapeString formats a header's shape for a message of bounded length.
func shapeString(shape []uint64) string {
	dims := make([]int, min(len(shape), budget.MaxShapeDims+1))
	for i := range dims {
		dims[i] = int(min(shape[i], math.MaxInt))
	}
	s := budget.Shape(dims)
	if len(shape) > len(dims) {
		s = strings.Replace(s, fmt.Sprintf("(%d dims)", len(dims)), fmt.Sprintf("(%d dims)", len(shape)), 1)
	}
	return s
}
