package dcz

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/huffman"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/sparse"
)

// Decoder reads a .dcz file one section at a time. NewDecoder reads the
// header and network description; Next returns the tensors one by one and
// io.EOF after the end section, once it has checked that every parameter
// of the network was present and nothing follows.
type Decoder struct {
	r      *bufio.Reader
	off    int64 // file offset of the next byte of r
	spec   arch.Spec
	graph  *graph.Graph
	anc    Ancillary
	ver    byte
	params *paramTable
	seen   map[string]bool
	head   int64 // bytes of file header and spec section
	dense  int64 // float32 values of the tensors read so far
	whole  bool  // the whole file is kept (Read): count dense forms together
	err    error // sticky: the first error, or io.EOF after the end section
}

// Section is one decoded tensor section with its place in the file.
type Section struct {
	Layer *Layer  // set for a pruned, weight-shared tensor
	Raw   *Tensor // set for a raw (float32 or float16) tensor

	Offset int64 // file offset of the section
	Size   int   // bytes on disk: type, length, body and checksum
	// For layers: entries (survivors plus fillers), fillers, and the bytes
	// of the Huffman blocks of the weight indices and of the gaps (0 for a
	// dense layer, which stores no gaps). An arithmetic-coded layer has
	// no blocks (WeightBytes and IndexBytes are 0) and Entries and Fillers
	// count what its Huffman form with the stored gap width would hold.
	Entries, Fillers        int
	WeightBytes, IndexBytes int
	// CodedBytes is the entropy-coded part of a layer section: both
	// Huffman blocks, or the cabac stream.
	CodedBytes int
}

// Frame is a section read and checksummed but not yet decoded; Decode may
// run on another goroutine.
type Frame struct {
	Offset int64 // file offset of the section
	Name   string
	Shape  []int
	Layer  bool // a pruned, weight-shared tensor; false for a raw one
	typ    byte
	body   []byte
	size   int
}

// NewDecoder reads the file header and network description from r.
func NewDecoder(r io.Reader) (*Decoder, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<16)
	}
	d := &Decoder{r: br, seen: map[string]bool{}}
	var head [len(Magic) + 1]byte
	if n, err := io.ReadFull(br, head[:]); err != nil {
		return nil, &FormatError{Offset: int64(n), What: "file shorter than the 5-byte header", Err: io.ErrUnexpectedEOF}
	}
	d.off = int64(len(head))
	if string(head[:len(Magic)]) != Magic {
		return nil, &FormatError{Offset: 0, What: fmt.Sprintf("magic % x, want % x", head[:len(Magic)], Magic), Err: ErrMagic}
	}
	d.ver = head[len(Magic)]
	if d.ver < versionChain || d.ver > Version {
		return nil, &FormatError{Offset: int64(len(Magic)), What: fmt.Sprintf("version %d, this reader knows 1 to %d", d.ver, Version), Err: ErrVersion}
	}
	f, err := d.readFrame(crc32.Checksum(head[:], castagnoli))
	if err != nil {
		return nil, err
	}
	if f.typ != secSpec {
		return nil, &FormatError{Offset: f.Offset, What: fmt.Sprintf("first section has type %q, want the network description 'S'", f.typ)}
	}
	if d.spec, err = parseSpec(f); err != nil {
		return nil, err
	}
	if d.params, err = newParamTable(d.spec); err != nil {
		return nil, &FormatError{Offset: f.Offset, What: "network description", Err: err}
	}
	if err := d.readPreamble(); err != nil {
		return nil, err
	}
	d.head = d.off
	return d, nil
}

// readPreamble reads, in a version 2 file, the graph section and the
// ancillary sections that follow the description.
func (d *Decoder) readPreamble() error {
	for d.ver >= 2 {
		next, err := d.r.Peek(1)
		if err != nil || next[0] != secGraph && !ancillary(next[0]) {
			return nil // the tensor sections (or a missing end) are Next's
		}
		f, err := d.readFrame(0)
		if err != nil {
			return err
		}
		if f.typ != secGraph {
			if err := d.ancillary(f); err != nil {
				return err
			}
			continue
		}
		if d.graph != nil {
			return &FormatError{Offset: f.Offset, What: "second graph section"}
		}
		if !TensorsOnly(d.spec) {
			return &FormatError{Offset: f.Offset, What: "a graph section beside a layer chain"}
		}
		if d.graph, d.params, err = parseGraph(f); err != nil {
			return err
		}
	}
	return nil
}

// ancillary keeps the ancillary sections this reader knows and skips the
// others, whose checksums were verified.
func (d *Decoder) ancillary(f *Frame) error {
	var err error
	switch f.typ {
	case secPreprocess:
		d.anc.Preprocess, err = inflateBody(f, MaxSpecBytes, "preprocessing")
	case secMeta:
		var js []byte
		if js, err = inflateBody(f, MaxSpecBytes, "metadata"); err == nil {
			if jerr := json.Unmarshal(js, &d.anc.Meta); jerr != nil {
				err = &FormatError{Offset: f.Offset, What: "metadata", Err: jerr}
			}
		}
	}
	return err
}

// Graph is the file's graph (version 2), float parameters as
// data-less stand-ins, or nil for a layer chain.
func (d *Decoder) Graph() *graph.Graph { return d.graph }

// Ancillary is the file's optional data.
func (d *Decoder) Ancillary() Ancillary { return d.anc }

// Spec is the network description of the file.
func (d *Decoder) Spec() arch.Spec { return d.spec }

// Next decodes the next tensor section. It returns io.EOF after a valid
// end section.
func (d *Decoder) Next() (*Section, error) {
	f, err := d.NextFrame()
	if err != nil {
		return nil, err
	}
	return f.Decode()
}

// NextFrame reads the next tensor section and verifies its checksum and
// that it names a parameter of the network not seen before, without
// decoding it. It returns io.EOF after a valid end section.
func (d *Decoder) NextFrame() (*Frame, error) {
	if d.err != nil {
		return nil, d.err
	}
	f, err := d.nextFrame()
	if err != nil {
		d.err = err
		return nil, err
	}
	return f, nil
}

func (d *Decoder) nextFrame() (*Frame, error) {
	f, err := d.readFrame(0)
	if err != nil {
		return nil, err
	}
	switch f.typ {
	case secEnd:
		if len(f.body) != 0 {
			return nil, &FormatError{Offset: f.Offset, What: "end section not empty"}
		}
		for _, name := range d.params.order {
			if !d.seen[name] {
				return nil, &FormatError{Offset: f.Offset, What: fmt.Sprintf("parameter %s missing", name)}
			}
		}
		if _, err := d.r.ReadByte(); err != io.EOF {
			return nil, &FormatError{Offset: d.off, What: "data after the end section"}
		}
		return nil, io.EOF
	case secSpec:
		return nil, &FormatError{Offset: f.Offset, What: "second network description"}
	case secGraph:
		return nil, &FormatError{Offset: f.Offset, What: "graph section after the tensors"}
	}
	if ancillary(f.typ) {
		if err := d.ancillary(f); err != nil {
			return nil, err
		}
		return d.nextFrame()
	}
	c := f.cursor()
	name, hb, shape, err := c.header(f.typ)
	if err != nil {
		return nil, err
	}
	if err := d.params.check(name, shape); err != nil {
		return nil, &FormatError{Offset: f.Offset, What: err.Error()}
	}
	if err := d.countDense(shape); err != nil {
		return nil, &FormatError{Offset: f.Offset, What: "tensor " + name, Err: err}
	}
	if d.seen[name] {
		return nil, &FormatError{Offset: f.Offset, What: fmt.Sprintf("parameter %s stored twice", name)}
	}
	if err := checkHeaderByte(f.typ, hb); err != nil {
		return nil, &FormatError{Offset: c.base + int64(c.byteAt), What: fmt.Sprintf("tensor %s: %v", name, err)}
	}
	if f.typ == secLayer {
		k, _, _ := parseKindByte(hb)
		if !d.params.open && k != d.params.kind[name] {
			return nil, &FormatError{Offset: f.Offset, What: fmt.Sprintf("layer %s: kind %q, the network description says %q", name, k, d.params.kind[name])}
		}
	}
	d.seen[name] = true
	f.Name, f.Shape, f.Layer = name, shape, f.typ == secLayer
	return f, nil
}

// countDense checks the dense float32 form of a tensor against the memory
// budget, and for a whole-file Read that of all the tensors read so far: a
// file whose layers are nearly empty but declare a huge shape is refused
// before anything (Layer.Dense, DenseWeights, a decoded model) expands it.
// A streaming reader (Next) needs only one tensor at a time.
func (d *Decoder) countDense(shape []int) error {
	n := int64(numel(shape)) // at most 2^32
	d.dense += n
	if d.whole {
		return budget.Default.Check("the dense form of the tensors", d.dense, 4)
	}
	return budget.Default.Check("the dense form of the tensor", n, 4)
}

// readFrame reads one section and checks its checksum, which continues
// crc (the file header's for the first section).
func (d *Decoder) readFrame(crc uint32) (*Frame, error) {
	start := d.off
	var hdr []byte
	typ, err := d.r.ReadByte()
	if err != nil {
		return nil, &FormatError{Offset: start, What: "missing section (the end section was never reached)", Err: io.ErrUnexpectedEOF}
	}
	hdr = append(hdr, typ)
	tensor, _ := tensorSection(typ)
	known := typ == secSpec || tensor || typ == secEnd ||
		d.ver >= 2 && (typ == secGraph || ancillary(typ))
	if !known {
		return nil, &FormatError{Offset: start, What: fmt.Sprintf("unknown section type 0x%02x", typ)}
	}
	var length uint64
	for shift := 0; ; shift += 7 {
		b, err := d.r.ReadByte()
		if err != nil {
			return nil, &FormatError{Offset: start + int64(len(hdr)), What: "truncated section length", Err: io.ErrUnexpectedEOF}
		}
		hdr = append(hdr, b)
		if shift > 35 {
			return nil, &FormatError{Offset: start + 1, What: "section length too large"}
		}
		length |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
	}
	if length > maxSection {
		return nil, &FormatError{Offset: start + 1, What: fmt.Sprintf("section length %d too large", length)}
	}
	d.off += int64(len(hdr))
	body, err := d.readN(int(length))
	if err != nil {
		return nil, &FormatError{Offset: d.off, What: fmt.Sprintf("section %q declares %d bytes, the file ends first", typ, length), Err: io.ErrUnexpectedEOF}
	}
	d.off += int64(length)
	var sum [4]byte
	if _, err := io.ReadFull(d.r, sum[:]); err != nil {
		return nil, &FormatError{Offset: d.off, What: fmt.Sprintf("section %q checksum truncated", typ), Err: io.ErrUnexpectedEOF}
	}
	d.off += 4
	crc = crc32.Update(crc, castagnoli, hdr)
	crc = crc32.Update(crc, castagnoli, body)
	if got := binary.LittleEndian.Uint32(sum[:]); got != crc {
		return nil, &FormatError{Offset: start, What: fmt.Sprintf("section %q of %d bytes: stored CRC-32C %08x, computed %08x", typ, length, got, crc), Err: ErrChecksum}
	}
	return &Frame{Offset: start, typ: typ, body: body, size: int(d.off - start)}, nil
}

// readN reads n bytes, growing the buffer only as data arrives, so that a
// huge declared length in a short file costs no huge allocation.
func (d *Decoder) readN(n int) ([]byte, error) {
	const chunk = 64 << 10
	if n <= chunk {
		b := make([]byte, n)
		_, err := io.ReadFull(d.r, b)
		return b, err
	}
	b := make([]byte, 0, chunk)
	for len(b) < n {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grows geometrically
		}
		m, err := io.ReadFull(d.r, b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

func parseSpec(f *Frame) (arch.Spec, error) {
	js, err := inflateBody(f, MaxSpecBytes, "description")
	if err != nil {
		return arch.Spec{}, err
	}
	var spec arch.Spec
	if err := json.Unmarshal(js, &spec); err == nil && TensorsOnly(spec) {
		return spec, nil
	}
	spec, err = arch.Parse(js)
	if err != nil {
		return arch.Spec{}, &FormatError{Offset: f.Offset, What: "network description", Err: err}
	}
	return spec, nil
}

// Decode decodes the tensor of the section.
func (f *Frame) Decode() (*Section, error) {
	s := &Section{Offset: f.Offset, Size: f.size}
	var err error
	switch f.typ {
	case secLayer:
		s.Layer, err = f.decodeLayer(s)
	case secRaw, secTyped:
		s.Raw, err = f.decodeRaw()
	default:
		err = &FormatError{Offset: f.Offset, What: fmt.Sprintf("section %q holds no tensor", f.typ)}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (f *Frame) decodeLayer(s *Section) (*Layer, error) {
	c := f.cursor()
	name, kb, shape, err := c.header(f.typ)
	if err != nil {
		return nil, err
	}
	c.what = "layer " + name
	kind, prec, err := parseKindByte(kb)
	if err != nil {
		return nil, c.failAt(c.byteAt, "%v", err)
	}
	bits, _ := c.byte("weight bits")
	ibits, _ := c.byte("index bits")
	k, _ := c.uvarint("codebook size")
	if c.err != nil {
		return nil, c.err
	}
	switch {
	case bits < 1 || bits > 16:
		return nil, c.fail("weight bits %d outside 1..16", bits)
	case ibits < 1 || ibits > sparse.MaxBits:
		return nil, c.fail("index bits %d outside 1..%d", ibits, sparse.MaxBits)
	case k > 1<<bits:
		return nil, c.fail("codebook of %d entries exceeds 2^%d", k, bits)
	case uint64(prec.size())*k > uint64(c.left()):
		return nil, c.fail("codebook of %d entries exceeds the %d bytes left", k, c.left())
	}
	codebook := make([]float32, k)
	readValues(codebook, c.b[c.off:], prec)
	c.off += prec.size() * int(k)
	l := &Layer{
		Layer: quantize.Layer{Name: name, Shape: shape, Bits: int(bits), Codebook: codebook},
		Kind:  kind, IndexBits: int(ibits), Precision: prec,
	}
	if kb&flagArith != 0 {
		return c.decodeArith(l, s)
	}
	if err := c.decodeHuffman(l, s); err != nil {
		return nil, err
	}
	return l, nil
}

// decodeArith decodes the cabac stream that fills the rest of the body of
// an arithmetic-coded layer section. The stream must use every byte.
func (c *cursor) decodeArith(l *Layer, s *Section) (*Layer, error) {
	start := c.off
	src := c.rest()
	// An arithmetic code may spend far less than a bit a position (a few
	// bytes can hold a million kept weights), so the output, 6 bytes a
	// kept weight at most, is checked against the budget first, as the
	// dense form was (Decoder.countDense).
	n := int64(numel(l.Shape))
	if err := budget.Default.Check("the decoded positions and indices of the tensor", n, 6); err != nil {
		c.err = &FormatError{Offset: c.base + int64(start), What: c.what, Err: err}
		return nil, c.err
	}
	var err error
	if l.Pos, l.Idx, err = decodeArith(src, l.Shape, numel(l.Shape), len(l.Codebook)); err != nil {
		return nil, c.wrapArith(start, err)
	}
	l.Coder = CoderArith
	s.Fillers = fillerCount(l.Pos, l.IndexBits)
	s.Entries = len(l.Pos) + s.Fillers
	s.CodedBytes = len(src)
	return l, nil
}

// decodeHuffman decodes the Huffman blocks of the indices and gaps that
// fill the rest of the body of a layer section.
func (c *cursor) decodeHuffman(l *Layer, s *Section) error {
	n, k, ibits := numel(l.Shape), uint64(len(l.Codebook)), uint8(l.IndexBits)
	start := c.off
	// A block of one distinct symbol codes it beside a dummy, so a
	// one-entry codebook still needs a two-symbol alphabet.
	idx, used, err := huffman.Decode([]uint16(nil), c.b[c.off:], n, max(int(k), 2))
	if err != nil {
		return c.wrap(start, "weight indices", err)
	}
	for _, v := range idx {
		if uint64(v) >= k {
			return c.failAt(start, "weight index %d outside the codebook of %d", v, k)
		}
	}
	c.off += used
	s.WeightBytes = used
	s.Entries = len(idx)

	var pos []uint32
	if len(idx) == n {
		pos = make([]uint32, n)
		for i := range pos {
			pos[i] = uint32(i)
		}
	} else {
		start = c.off
		span := sparse.Span(int(ibits))
		// Each entry advances at least one position past the first, and
		// the last is a survivor: at most n entries.
		gaps, used, err := huffman.Decode([]uint32(nil), c.b[c.off:], n, int(span)+2)
		if err != nil {
			return c.wrap(start, "gaps", err)
		}
		c.off += used
		s.IndexBytes = used
		fillers := SplitGapSymbols(gaps, int(ibits))
		if len(gaps)-len(fillers) != len(idx) {
			return c.failAt(start, "%d weight indices but %d survivors in the gaps", len(idx), len(gaps)-len(fillers))
		}
		if pos, err = sparse.Decode(gaps, fillers, n, int(ibits)); err != nil {
			return c.wrap(start, "gaps", err)
		}
		s.Entries, s.Fillers = len(gaps), len(fillers)
	}
	if c.left() != 0 {
		return c.fail("%d unexpected bytes at the end", c.left())
	}
	l.Pos, l.Idx = pos, idx
	s.CodedBytes = s.WeightBytes + s.IndexBytes
	return nil
}

func (f *Frame) decodeRaw() (*Tensor, error) {
	c := f.cursor()
	name, elem, shape, err := c.header(f.typ)
	if err != nil {
		return nil, err
	}
	prec := Float32
	if f.typ == secTyped {
		var ok bool
		if prec, ok = elemPrecision(elem); !ok {
			return nil, c.failAt(c.byteAt, "raw tensor %s: unknown element type %d", name, elem)
		}
	}
	n := numel(shape)
	if uint64(c.left()) != uint64(prec.size())*uint64(n) {
		return nil, c.fail("raw tensor %s: %d bytes of data for %d %s values", name, c.left(), n, prec)
	}
	data := make([]float32, n)
	readValues(data, c.b[c.off:], prec)
	return &Tensor{Name: name, Shape: shape, Data: data, Precision: prec}, nil
}

// checkHeaderByte checks the byte between the name and the shape of a
// tensor section: a known kind and known flags in a layer section, a known
// element type in a typed raw section.
func checkHeaderByte(typ, b byte) error {
	switch typ {
	case secLayer:
		_, _, err := parseKindByte(b)
		return err
	case secTyped:
		if _, ok := elemPrecision(b); !ok {
			return fmt.Errorf("unknown element type %d", b)
		}
	}
	return nil
}

// cursor walks a section body, turning every failure into a FormatError
// that names the section and the file offset. After the first failure
// every read returns zero and err stays set.
type cursor struct {
	b      []byte
	off    int
	base   int64 // file offset of b[0]
	what   string
	byteAt int // offset of the header byte of a layer or typed raw section
	err    error
}

func (f *Frame) cursor() *cursor {
	hdr := 1 + uvarintLen(uint64(len(f.body)))
	what := map[byte]string{secSpec: "network description", secLayer: "layer section", secRaw: "raw tensor section", secTyped: "typed raw tensor section"}[f.typ]
	return &cursor{b: f.body, base: f.Offset + int64(hdr), what: what}
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

func (c *cursor) left() int { return len(c.b) - c.off }

func (c *cursor) failAt(off int, format string, args ...any) error {
	if c.err == nil {
		c.err = &FormatError{Offset: c.base + int64(off), What: c.what + ": " + fmt.Sprintf(format, args...)}
	}
	return c.err
}

func (c *cursor) fail(format string, args ...any) error { return c.failAt(c.off, format, args...) }

// wrap reports err from a Huffman block or gap sequence starting at off.
func (c *cursor) wrap(off int, field string, err error) error {
	var he *huffman.CorruptError
	if errors.As(err, &he) {
		off += he.Offset
	}
	if c.err == nil {
		c.err = &FormatError{Offset: c.base + int64(off), What: c.what + ": " + field, Err: err}
	}
	return c.err
}

func (c *cursor) byte(field string) (byte, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.off >= len(c.b) {
		return 0, c.fail("truncated at the %s", field)
	}
	c.off++
	return c.b[c.off-1], nil
}

func (c *cursor) uvarint(field string) (uint64, error) {
	if c.err != nil {
		return 0, c.err
	}
	v, n := binary.Uvarint(c.b[c.off:])
	if n <= 0 {
		return 0, c.fail("bad or truncated %s", field)
	}
	c.off += n
	return v, nil
}

func (c *cursor) rest() []byte {
	r := c.b[c.off:]
	c.off = len(c.b)
	return r
}

// header reads the name, header byte (layer and typed raw sections) and
// shape of a tensor section of type typ; only raw tensors may be empty.
func (c *cursor) header(typ byte) (name string, hb byte, shape []int, err error) {
	_, hasByte := tensorSection(typ)
	layer := typ == secLayer
	size, _ := c.uvarint("name length")
	if c.err == nil && (size > MaxNameLen || size > uint64(c.left())) {
		c.fail("name length %d exceeds the limit or the section", size)
	}
	if c.err != nil {
		return "", 0, nil, c.err
	}
	name = string(c.b[c.off : c.off+int(size)])
	c.off += int(size)
	if hasByte {
		c.byteAt = c.off
		hb, _ = c.byte("header byte")
	}
	rank, _ := c.uvarint("rank")
	if c.err == nil && rank > MaxDims {
		c.fail("tensor %s: rank %d exceeds %d", name, rank, MaxDims)
	}
	if c.err != nil {
		return "", 0, nil, c.err
	}
	shape = make([]int, rank)
	for i := range shape {
		d, _ := c.uvarint("dimension")
		if c.err == nil && (d == 0 && layer || d > MaxElems) {
			c.fail("tensor %s: dimension %d outside 1..2^32", name, d)
		}
		shape[i] = int(d)
	}
	if c.err == nil && numel(shape) < 0 {
		c.fail("tensor %s: shape %s has more than 2^32 elements", name, budget.Shape(shape))
	}
	return name, hb, shape, c.err
}

// parseFrameHeader reads the type, name and shape of an encoded section
// and checks its framing and checksum.
type frameHeader struct {
	name  string
	shape []int
}

func parseFrameHeader(frame []byte) (frameHeader, error) {
	if len(frame) < 6 {
		return frameHeader{}, errors.New("section too short")
	}
	length, n := binary.Uvarint(frame[1:])
	if n <= 0 || uint64(len(frame)) != 1+uint64(n)+length+4 {
		return frameHeader{}, errors.New("section length does not match its framing")
	}
	end := len(frame) - 4
	if crc32.Checksum(frame[:end], castagnoli) != binary.LittleEndian.Uint32(frame[end:]) {
		return frameHeader{}, errors.New("section checksum mismatch")
	}
	typ := frame[0]
	if tensor, _ := tensorSection(typ); !tensor {
		return frameHeader{}, fmt.Errorf("section type %q is not a tensor", typ)
	}
	f := &Frame{typ: typ, body: frame[1+n : end]}
	name, _, shape, err := f.cursor().header(typ)
	return frameHeader{name: name, shape: shape}, err
}

// Read reads a whole .dcz file from r.
func Read(r io.Reader) (*Model, error) {
	d, err := NewDecoder(r)
	if err != nil {
		return nil, err
	}
	d.whole = true
	m := &Model{Spec: d.Spec(), Graph: d.graph}
	for {
		s, err := d.Next()
		if err == io.EOF {
			m.Ancillary = d.anc
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		if s.Layer != nil {
			m.Layers = append(m.Layers, *s.Layer)
		} else {
			m.Raw = append(m.Raw, *s.Raw)
		}
	}
}

// ReadFile reads a whole .dcz file.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dcz: %w", err)
	}
	defer f.Close()
	m, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// DenseWeights expands every parameter to its dense float32 form, by
// name. Raw tensors share their Data slices with the model.
func (m *Model) DenseWeights() map[string][]float32 {
	w := make(map[string][]float32, len(m.Layers)+len(m.Raw))
	for i := range m.Layers {
		w[m.Layers[i].Name] = m.Layers[i].Dense()
	}
	for _, t := range m.Raw {
		w[t.Name] = t.Data
	}
	return w
}
