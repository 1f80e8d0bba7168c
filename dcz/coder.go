package dcz

import (
	"errors"
	"fmt"
	"sync"

	"github.com/deepcompress/deepcompress/cabac"
)

// Coder is the entropy coder of a layer section's codebook indices and
// positions. The zero value is the paper's: Huffman-coded indices and
// Huffman-coded relative positions, what every file held before the
// arithmetic coder existed, so a model written without choosing a coder
// is byte for byte what it always was.
type Coder uint8

const (
	// CoderHuffman codes the indices and the gaps between survivors
	// (fillers included) as two Huffman blocks (docs/FORMAT.md, 'L').
	CoderHuffman Coder = iota
	// CoderArith codes the whole tensor as one stream of package cabac,
	// context-adaptive binary arithmetic coding (DeepCABAC), marked by
	// flag 0x20 of the kind byte. Readers from before the flag refuse it.
	CoderArith
	// CoderAuto codes a layer both ways and keeps the smaller section,
	// Huffman on a tie (older readers read it). So a file written with
	// CoderAuto is never larger, tensor by tensor, than with CoderHuffman.
	// A decoded layer's Coder is never CoderAuto but the coder its
	// section used.
	CoderAuto
)

// Coders lists the coders by their names, as ParseCoder reads them.
var Coders = []Coder{CoderAuto, CoderHuffman, CoderArith}

func (c Coder) String() string {
	switch c {
	case CoderHuffman:
		return "huffman"
	case CoderArith:
		return "arith"
	case CoderAuto:
		return "auto"
	}
	return fmt.Sprintf("Coder(%d)", uint8(c))
}

// ParseCoder returns the coder of a name: "huffman", "arith" or "auto".
func ParseCoder(s string) (Coder, error) {
	for _, c := range Coders {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown coder %q (want auto, huffman or arith)", s)
}

// MarshalText writes the coder's name, so that JSON configs say
// "coder": "auto".
func (c Coder) MarshalText() ([]byte, error) {
	if c > CoderAuto {
		return nil, fmt.Errorf("dcz: unknown coder %d", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a coder's name (ParseCoder).
func (c *Coder) UnmarshalText(b []byte) error {
	v, err := ParseCoder(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// SetCoder sets the coder of every layer of m.
func (m *Model) SetCoder(c Coder) {
	for i := range m.Layers {
		m.Layers[i].Coder = c
	}
}

// matrix is the rows x cols view of a tensor that package cabac codes:
// rows the first dimension (a weight's outputs), cols the product of the
// others (a convolution kernel [out, in, kh, kw] is out x in*kh*kw); a
// rank-0 tensor is 1 x 1.
func matrix(shape []int, n int) (rows, cols int) {
	if len(shape) == 0 {
		return 1, n
	}
	return shape[0], n / shape[0]
}

// The cabac coders keep their buffers between tensors and must not be
// shared by goroutines: each call takes one from a pool.
var (
	arithEncoders = sync.Pool{New: func() any { return new(cabac.Encoder) }}
	arithDecoders = sync.Pool{New: func() any { return new(cabac.Decoder) }}
)

// appendArith appends the cabac stream of l, whose n positions the
// caller has validated.
func appendArith(dst []byte, l *Layer, n int) ([]byte, error) {
	enc := arithEncoders.Get().(*cabac.Encoder)
	defer arithEncoders.Put(enc)
	rows, cols := matrix(l.Shape, n)
	return enc.EncodeSparse(dst, rows, cols, l.Pos, l.Idx, len(l.Codebook))
}

// decodeArith decodes the cabac stream src of an n-element tensor of
// this shape with a codebook of k entries.
func decodeArith(src []byte, shape []int, n, k int) ([]uint32, []uint16, error) {
	dec := arithDecoders.Get().(*cabac.Decoder)
	defer arithDecoders.Put(dec)
	rows, cols := matrix(shape, n)
	// Fresh slices: the decoder's output becomes the layer's.
	return dec.DecodeSparse(src, rows, cols, k, nil, nil)
}

// arithSplit divides the bytes of l's cabac stream between its codebook
// indices and its positions in proportion to the context model's ideal
// cost of each (cabac.Encoder.Bound: index bins and bypass bits against
// significance flags or runs), for the per-layer table, whose columns
// are bits per weight and per position.
func arithSplit(l *Layer, bytes int) (weightBytes, indexBytes float64) {
	enc := arithEncoders.Get().(*cabac.Encoder)
	defer arithEncoders.Put(enc)
	n := numel(l.Shape)
	rows, cols := matrix(l.Shape, n)
	c, err := enc.Bound(rows, cols, l.Pos, l.Idx, len(l.Codebook))
	if err != nil || c.Bits() == 0 {
		return 0, float64(bytes)
	}
	w := float64(bytes) * (c.Index + c.Bypass) / c.Bits()
	return w, float64(bytes) - w
}

// fillerCount is the number of fillers the Huffman form of positions pos
// would hold with gap width ibits (docs/FORMAT.md, relative indices): a
// gap d from the cursor needs (d-1) / 2^ibits of them. The arithmetic
// coder has none; the count keeps the paper's fixed-width (P+Q) size
// comparable between coders.
func fillerCount(pos []uint32, ibits int) int {
	span := uint64(1) << ibits
	f, cursor := 0, uint64(0)
	for _, p := range pos {
		if g := uint64(p) - cursor; uint64(p) > cursor {
			f += int((g - 1) / span)
		}
		cursor = uint64(p)
	}
	return f
}

// wrapArith reports a cabac error in the stream starting at off.
func (c *cursor) wrapArith(off int, err error) error {
	var ce *cabac.CorruptError
	if errors.As(err, &ce) {
		off += ce.Offset
	}
	if c.err == nil {
		c.err = &FormatError{Offset: c.base + int64(off), What: c.what + ": arithmetic-coded tensor", Err: err}
	}
	return c.err
}
