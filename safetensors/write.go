package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
)

// Write writes f to w: the tensors in sorted-name order, packed back to
// back, each in its DType ("" means F32), after a compact JSON header
// padded with spaces to a multiple of 8 bytes, as PyTorch's safetensors
// writes them.
func Write(w io.Writer, f *File) error {
	ts := make([]*Tensor, len(f.Tensors))
	for i := range f.Tensors {
		ts[i] = &f.Tensors[i]
	}
	slices.SortFunc(ts, func(a, b *Tensor) int { return strings.Compare(a.Name, b.Name) })
	infos := make([]Info, len(ts))
	for i, t := range ts {
		infos[i] = Info{Name: t.Name, DType: t.DType, Shape: t.Shape}
	}
	sw, err := NewWriter(w, f.Metadata, infos)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := sw.WriteTensor(t.Name, t.Data); err != nil {
			return err
		}
	}
	return sw.Close()
}

// WriteFile writes f to path atomically (see Write).
func WriteFile(path string, f *File) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, f) })
}

// Writer streams a safetensors file: the header, from tensor descriptions
// given up front, then each tensor's data in the same order.
type Writer struct {
	w       io.Writer
	entries []Entry
	next    int    // index of the next tensor to write
	buf     []byte // encoding buffer
	err     error  // sticky

	// Set by Create: the file's bytes go through pipe to a goroutine
	// running atomicfile.Write, which reports on done.
	pipe *io.PipeWriter
	done chan error
}

// errAborted discards a file being created.
var errAborted = errors.New("safetensors: write aborted")

// NewWriter writes the header for tensors (in that order, packed back to
// back; a "" DType means F32) and metadata to w. The data must then be
// given with WriteTensor in the same order, and Close called.
func NewWriter(w io.Writer, metadata map[string]string, tensors []Info) (*Writer, error) {
	hdr, entries, err := buildHeader(metadata, tensors)
	if err != nil {
		return nil, err
	}
	sw := &Writer{w: w, entries: entries}
	sw.write(hdr)
	return sw, sw.err
}

// Create starts writing a safetensors file at path (see NewWriter). The
// file appears, complete, only when Close succeeds; Abort, or a Close before
// every tensor is written, leaves any previous file at path untouched. The
// caller must end with Close or Abort, which release the temporary file and
// the goroutine that writes it.
func Create(path string, metadata map[string]string, tensors []Info) (*Writer, error) {
	hdr, entries, err := buildHeader(metadata, tensors)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := atomicfile.Write(path, func(dst io.Writer) error {
			_, err := io.Copy(dst, pr)
			return err
		})
		// Unblock WriteTensor if the file write failed; a no-op otherwise.
		pr.CloseWithError(cmp.Or(err, io.ErrClosedPipe))
		done <- err
	}()
	sw := &Writer{w: pw, entries: entries, pipe: pw, done: done}
	if sw.write(hdr); sw.err != nil {
		return nil, sw.Abort()
	}
	return sw, nil
}

// Entries returns the header entries, in data order.
func (sw *Writer) Entries() []Entry { return sw.entries }

// WriteTensor writes the next tensor's data, converted to its DType. name
// and len(data) must match the next tensor of the header.
func (sw *Writer) WriteTensor(name string, data []float32) error {
	if sw.err != nil {
		return sw.err
	}
	if sw.next == len(sw.entries) {
		return sw.fail(fmt.Errorf("safetensors: tensor %q written after all %d tensors", name, len(sw.entries)))
	}
	e := sw.entries[sw.next]
	if name != e.Name {
		return sw.fail(fmt.Errorf("safetensors: got tensor %q, want %q (tensor %d of the header)", name, e.Name, sw.next))
	}
	if len(data) != e.Numel() {
		return sw.fail(fmt.Errorf("safetensors: tensor %q has %d values, its shape %s needs %d", name, len(data), budget.Shape(e.Shape), e.Numel()))
	}
	size := e.DType.Size()
	if sw.buf == nil {
		sw.buf = make([]byte, writeChunk)
	}
	per := writeChunk / size
	for i := 0; i < len(data) && sw.err == nil; i += per {
		n := min(per, len(data)-i)
		encode(e.DType, sw.buf[:n*size], data[i:i+n])
		sw.write(sw.buf[:n*size])
	}
	sw.next++
	return sw.err
}

// writeChunk is the encoding buffer size of WriteTensor.
const writeChunk = 1 << 16

// Close finishes the file. It fails if some tensor was not written; a
// Writer from Create then discards the file.
func (sw *Writer) Close() error {
	if sw.err == nil && sw.next < len(sw.entries) {
		sw.fail(fmt.Errorf("safetensors: closed after %d of %d tensors (next %q)", sw.next, len(sw.entries), sw.entries[sw.next].Name))
	}
	if sw.pipe == nil {
		return sw.err
	}
	if sw.err != nil {
		return sw.Abort()
	}
	sw.pipe.Close()
	err := <-sw.done
	sw.pipe, sw.err = nil, errors.New("safetensors: writer closed")
	return err
}

// Abort discards a file being created by Create and returns the error that
// stopped it (errAborted if none). It is a no-op after Close.
func (sw *Writer) Abort() error {
	if sw.err == nil {
		sw.err = errAborted
	}
	if sw.pipe != nil {
		sw.pipe.CloseWithError(sw.err)
		<-sw.done
		sw.pipe = nil
	}
	return sw.err
}

func (sw *Writer) write(p []byte) {
	if sw.err != nil {
		return
	}
	if _, err := sw.w.Write(p); err != nil {
		sw.err = fmt.Errorf("safetensors: %w", err)
	}
}

func (sw *Writer) fail(err error) error {
	if sw.err == nil {
		sw.err = err
	}
	return sw.err
}

// buildHeader lays the tensors out back to back and encodes the header:
// the 8-byte length and the space-padded JSON.
func buildHeader(metadata map[string]string, tensors []Info) ([]byte, []Entry, error) {
	var b bytes.Buffer
	b.Write(make([]byte, 8)) // length, filled in below
	b.WriteByte('{')
	if len(metadata) > 0 {
		writeString(&b, metadataKey)
		b.WriteString(":{")
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if !utf8.ValidString(k) || !utf8.ValidString(metadata[k]) {
				return nil, nil, fmt.Errorf("safetensors: metadata %q is not valid UTF-8", k)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(&b, k)
			b.WriteByte(':')
			writeString(&b, metadata[k])
		}
		b.WriteByte('}')
	}
	entries := make([]Entry, len(tensors))
	seen := make(map[string]bool, len(tensors))
	var pos uint64
	for i, t := range tensors {
		if t.DType == Unknown {
			t.DType = F32
		}
		end, err := checkInfo(t, pos, seen)
		if err != nil {
			return nil, nil, err
		}
		entries[i] = Entry{Info: Info{Name: t.Name, DType: t.DType, Shape: slices.Clone(t.Shape)}, Begin: int64(pos), End: int64(end)}
		if i > 0 || len(metadata) > 0 {
			b.WriteByte(',')
		}
		writeString(&b, t.Name)
		fmt.Fprintf(&b, `:{"dtype":%q,"shape":[`, t.DType)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, d)
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, pos, end)
		pos = end
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	hdr := b.Bytes()
	if len(hdr)-8 > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: header of %d bytes exceeds the %d-byte limit", len(hdr)-8, MaxHeaderSize)
	}
	binary.LittleEndian.PutUint64(hdr, uint64(len(hdr)-8))
	return hdr, entries, nil
}

// checkInfo validates one tensor description laid out at pos and returns
// where its data ends.
func checkInfo(t Info, pos uint64, seen map[string]bool) (uint64, error) {
	switch {
	case t.Name == "" || t.Name == metadataKey || !utf8.ValidString(t.Name):
		return 0, fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
	case seen[t.Name]:
		return 0, fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
	case !t.DType.Convertible():
		return 0, &DTypeError{Tensor: t.Name, DType: t.DType}
	}
	seen[t.Name] = true
	n := uint64(t.DType.Size())
	for _, d := range t.Shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if d < 0 || hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("safetensors: tensor %q: bad shape %s", t.Name, budget.Shape(t.Shape))
		}
		n = lo
	}
	if pos+n < pos || pos+n > math.MaxInt64 {
		return 0, fmt.Errorf("safetensors: tensor %q: data area too large", t.Name)
	}
	return pos + n, nil
}

// writeString writes s as a JSON string, without the HTML escaping of
// encoding/json's default.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}
