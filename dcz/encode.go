package dcz

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/huffman"
	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/settings"
	"github.com/deepcompress/deepcompress/sparse"
)

// Spec section methods.
const (
	specStored  = 0 // JSON as is
	specDeflate = 1 // JSON compressed with DEFLATE (RFC 1951)
)

// Encoder writes a .dcz file one section at a time: NewEncoder writes the
// header and network description, WriteLayer and WriteRaw one parameter
// each (in any order), Close the end section after checking that every
// parameter was written. Sections may also be encoded ahead, concurrently,
// with EncodeLayer and EncodeRaw and written in order with WriteFrame.
type Encoder struct {
	w       io.Writer
	params  *paramTable
	written map[string]bool
	err     error // first write error, sticky
}

// NewEncoder writes the file header and the network description to w.
func NewEncoder(w io.Writer, spec arch.Spec) (*Encoder, error) {
	params, err := newParamTable(spec)
	if err != nil {
		return nil, fmt.Errorf("dcz: bad network description: %w", err)
	}
	body, err := specBody(spec.JSON())
	if err != nil {
		return nil, err
	}
	head := append([]byte(Magic), versionChain)
	frame := appendFrame(head, secSpec, body, crc32.Checksum(head, castagnoli))
	e := &Encoder{w: w, params: params, written: map[string]bool{}}
	return e, e.write(frame)
}

func (e *Encoder) write(b []byte) error {
	if e.err != nil {
		return e.err
	}
	if _, err := e.w.Write(b); err != nil {
		e.err = fmt.Errorf("dcz: writing: %w", err)
	}
	return e.err
}

// specBody is the spec section body: method, JSON length, data. DEFLATE
// is used when it is smaller, which it is for every real network.
func specBody(js []byte) ([]byte, error) {
	if len(js) > MaxSpecBytes {
		return nil, fmt.Errorf("dcz: network description of %d bytes exceeds %d", len(js), MaxSpecBytes)
	}
	return compressedBody(js), nil
}

// appendFrame appends a section: type, uvarint body length, body and the
// CRC-32C of those bytes, continuing crc (0 for all but the first section,
// whose checksum also covers the file header).
func appendFrame(dst []byte, typ byte, body []byte, crc uint32) []byte {
	start := len(dst)
	dst = append(dst, typ)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	dst = append(dst, body...)
	crc = crc32.Update(crc, castagnoli, dst[start:])
	return binary.LittleEndian.AppendUint32(dst, crc)
}

// WriteLayer encodes and writes one pruned, weight-shared parameter.
func (e *Encoder) WriteLayer(l *Layer) error {
	frame, err := e.EncodeLayer(l)
	if err != nil {
		return err
	}
	return e.WriteFrame(frame)
}

// WriteRaw writes one float32 parameter.
func (e *Encoder) WriteRaw(t *Tensor) error {
	frame, err := e.EncodeRaw(t)
	if err != nil {
		return err
	}
	return e.WriteFrame(frame)
}

// WriteFrame writes a section made by EncodeLayer or EncodeRaw. It checks
// that the section names a parameter of the network not yet written.
func (e *Encoder) WriteFrame(frame []byte) error {
	h, err := parseFrameHeader(frame)
	if err != nil {
		return fmt.Errorf("dcz: WriteFrame: %w", err)
	}
	if err := e.params.check(h.name, h.shape); err != nil {
		return fmt.Errorf("dcz: WriteFrame: %w", err)
	}
	if e.written[h.name] {
		return fmt.Errorf("dcz: parameter %s written twice", h.name)
	}
	if err := e.write(frame); err != nil {
		return err
	}
	e.written[h.name] = true
	return nil
}

// Close writes the end section after checking that every parameter of the
// network was written. It does not close the underlying writer.
func (e *Encoder) Close() error {
	for _, name := range e.params.order {
		if !e.written[name] {
			return fmt.Errorf("dcz: parameter %s was not written", name)
		}
	}
	return e.write(appendFrame(nil, secEnd, nil, 0))
}

// EncodeLayer returns the section of one pruned, weight-shared parameter,
// filling Kind and the default IndexBits from the network description. It
// only reads the Encoder, so several goroutines may call it at once.
//
// Layout of the body: name, kind byte, shape, weight bits b, index bits
// ib, codebook (uvarint size, float32 or float16 values), then with
// CoderHuffman the Huffman block of the codebook index of every survivor
// and, unless every position survives, the Huffman block of the gaps of
// all entries, where the symbol 2^ib+1 marks a filler (an entry that
// advances 2^ib positions and holds no weight); with CoderArith (kind
// flag 0x20) one cabac stream of the whole tensor; with CoderAuto the
// smaller of the two.
func (e *Encoder) EncodeLayer(l *Layer) ([]byte, error) {
	if err := e.params.check(l.Name, l.Shape); err != nil {
		return nil, fmt.Errorf("dcz: layer: %w", err)
	}
	kind := e.params.kindFor(l.Name, l.Kind, l.Shape)
	if l.Kind != "" && l.Kind != kind {
		return nil, fmt.Errorf("dcz: layer %s: kind %q, the network description says %q", l.Name, l.Kind, kind)
	}
	ib := l.IndexBits
	if ib == 0 {
		ib = settings.PaperBits(kind)
	}
	return encodeLayer(l, kind, ib)
}

func encodeLayer(l *Layer, kind arch.Kind, ibits int) ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("dcz: %w", err)
	}
	kb, ok := kindByte(kind)
	if !ok {
		return nil, fmt.Errorf("dcz: layer %s: kind %q has no weights", l.Name, kind)
	}
	n := numel(l.Shape)
	if n <= 0 || len(l.Shape) > MaxDims {
		return nil, fmt.Errorf("dcz: layer %s: shape %s outside the limits", l.Name, budget.Shape(l.Shape))
	}
	if err := checkExact(l.Codebook, l.Precision); err != nil {
		return nil, fmt.Errorf("dcz: layer %s: codebook: %w", l.Name, err)
	}
	if l.Precision == Float16 {
		kb |= flagHalfCodebook
	}
	if ibits < 1 || ibits > sparse.MaxBits {
		return nil, fmt.Errorf("dcz: layer %s: index bits %d outside 1..%d", l.Name, ibits, sparse.MaxBits)
	}
	coded, arith, err := entropyCode(l, n, ibits)
	if err != nil {
		return nil, err
	}
	if arith {
		kb |= flagArith
	}
	body := appendHeader(nil, l.Name, l.Shape, true, kb)
	body = append(body, byte(l.Bits), byte(ibits))
	body = binary.AppendUvarint(body, uint64(len(l.Codebook)))
	body = appendValues(body, l.Codebook, l.Precision)
	body = append(body, coded...)
	return appendFrame(nil, secLayer, body, 0), nil
}

// entropyCode returns the entropy-coded part of l's section as l.Coder
// asks: the Huffman blocks, the cabac stream (arith true), or with
// CoderAuto the shorter, the Huffman blocks on a tie, which every reader
// reads.
func entropyCode(l *Layer, n, ibits int) (coded []byte, arith bool, err error) {
	if l.Coder > CoderAuto {
		return nil, false, fmt.Errorf("dcz: layer %s: unknown coder %d", l.Name, l.Coder)
	}
	var huff []byte
	if l.Coder != CoderArith {
		if huff, err = appendHuffman(nil, l, n, ibits); err != nil || l.Coder == CoderHuffman {
			return huff, false, err
		}
	}
	if coded, err = appendArith(nil, l, n); err != nil {
		return nil, false, fmt.Errorf("dcz: layer %s: arithmetic coding: %w", l.Name, err)
	}
	if l.Coder == CoderAuto && len(huff) <= len(coded) {
		return huff, false, nil
	}
	return coded, true, nil
}

// appendHuffman appends the Huffman block of the codebook index of every
// survivor and, unless every position survives, the Huffman block of the
// gaps of all entries.
func appendHuffman(dst []byte, l *Layer, n, ibits int) ([]byte, error) {
	gaps, err := gapSymbols(l.Pos, n, ibits)
	if err != nil {
		return nil, fmt.Errorf("dcz: layer %s: %w", l.Name, err)
	}
	if dst, err = huffman.Encode(dst, l.Idx, nil); err != nil {
		return nil, fmt.Errorf("dcz: layer %s: weight indices: %w", l.Name, err)
	}
	if len(l.Pos) != n {
		if dst, err = huffman.Encode(dst, gaps, nil); err != nil {
			return nil, fmt.Errorf("dcz: layer %s: gaps: %w", l.Name, err)
		}
	}
	return dst, nil
}

// gapSymbols returns the gap stream of a layer: the gap of every entry,
// except that a filler is the symbol 2^ibits+1.
func gapSymbols(pos []uint32, n, ibits int) ([]uint32, error) {
	gaps, fillers, err := sparse.Encode(pos, n, ibits)
	if err != nil {
		return nil, err
	}
	for _, f := range fillers {
		gaps[f] = sparse.Span(ibits) + 1
	}
	return gaps, nil
}

// SplitGapSymbols undoes gapSymbols in place: every filler symbol
// 2^ibits+1 of gaps becomes the gap 2^ibits again, and the fillers'
// indices are returned, as sparse.Decode takes them.
func SplitGapSymbols(gaps []uint32, ibits int) (fillers []int) {
	span := sparse.Span(ibits)
	for i, g := range gaps {
		if g == span+1 {
			gaps[i] = span
			fillers = append(fillers, i)
		}
	}
	return fillers
}

// EncodeRaw returns the section of one raw parameter: for Float32 an 'R'
// section (name, shape, the float32 values little endian), for Float16 a
// 'T' section (name, element type byte 1, shape, the binary16 values).
// Like EncodeLayer it may run concurrently.
func (e *Encoder) EncodeRaw(t *Tensor) ([]byte, error) {
	if err := e.params.check(t.Name, t.Shape); err != nil {
		return nil, fmt.Errorf("dcz: raw tensor: %w", err)
	}
	if n := numel(t.Shape); n != len(t.Data) {
		return nil, fmt.Errorf("dcz: raw tensor %s: %d values for shape %s", t.Name, len(t.Data), budget.Shape(t.Shape))
	}
	if err := checkExact(t.Data, t.Precision); err != nil {
		return nil, fmt.Errorf("dcz: raw tensor %s: %w", t.Name, err)
	}
	typ, typed, elem := byte(secRaw), false, byte(0)
	if t.Precision == Float16 {
		typ, typed, elem = secTyped, true, elemFloat16
	}
	body := appendHeader(make([]byte, 0, 32+t.Precision.size()*len(t.Data)), t.Name, t.Shape, typed, elem)
	body = appendValues(body, t.Data, t.Precision)
	return appendFrame(nil, typ, body, 0), nil
}

// appendHeader appends the part common to tensor sections: the name, the
// header byte if the section has one (the kind and flags of a layer
// section, the element type of a typed raw section) and the shape.
func appendHeader(dst []byte, name string, shape []int, hasByte bool, b byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	if hasByte {
		dst = append(dst, b)
	}
	dst = binary.AppendUvarint(dst, uint64(len(shape)))
	for _, d := range shape {
		dst = binary.AppendUvarint(dst, uint64(d))
	}
	return dst
}

// Write writes m as a .dcz file to w, parameters in network order.
func Write(w io.Writer, m *Model) error {
	var e *Encoder
	var err error
	switch {
	case m.Graph != nil:
		e, err = NewGraphEncoder(w, m.Graph, m.Ancillary)
	case len(m.Preprocess) > 0 || len(m.Meta) > 0:
		return fmt.Errorf("dcz: preprocessing and metadata need a graph file")
	default:
		e, err = NewEncoder(w, m.Spec)
	}
	if err != nil {
		return err
	}
	layers := map[string]*Layer{}
	raws := map[string]*Tensor{}
	for i := range m.Layers {
		l := &m.Layers[i]
		if layers[l.Name] != nil {
			return fmt.Errorf("dcz: parameter %s given twice", l.Name)
		}
		layers[l.Name] = l
	}
	for i := range m.Raw {
		t := &m.Raw[i]
		if layers[t.Name] != nil || raws[t.Name] != nil {
			return fmt.Errorf("dcz: parameter %s given twice", t.Name)
		}
		raws[t.Name] = t
	}
	if e.params.open {
		return writeTensorsOnly(e, m)
	}
	for name := range layers {
		if _, ok := e.params.info[name]; !ok {
			return fmt.Errorf("dcz: no parameter %q in the network description", name)
		}
	}
	for name := range raws {
		if _, ok := e.params.info[name]; !ok {
			return fmt.Errorf("dcz: no parameter %q in the network description", name)
		}
	}
	for _, name := range e.params.order {
		switch {
		case layers[name] != nil:
			err = e.WriteLayer(layers[name])
		case raws[name] != nil:
			err = e.WriteRaw(raws[name])
		default:
			err = fmt.Errorf("dcz: parameter %s missing from the model", name)
		}
		if err != nil {
			return err
		}
	}
	return e.Close()
}

// writeTensorsOnly writes the layers and raw tensors of a tensors-only
// model in the order given, then the end section.
func writeTensorsOnly(e *Encoder, m *Model) error {
	for i := range m.Layers {
		if err := e.WriteLayer(&m.Layers[i]); err != nil {
			return err
		}
	}
	for i := range m.Raw {
		if err := e.WriteRaw(&m.Raw[i]); err != nil {
			return err
		}
	}
	return e.Close()
}

// WriteFile writes m to path atomically: readers see the old file or the
// complete new one.
func WriteFile(path string, m *Model) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, m) })
}
