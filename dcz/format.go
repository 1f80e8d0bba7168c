package dcz

import (
	"errors"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/settings"
)

// Magic starts every .dcz file. The high first byte catches transfers that
// strip the eighth bit, as in PNG.
const Magic = "\x89DCZ"

// Version is the newest format version this package writes and reads.
// Version 2 adds the graph section and ancillary sections; files that use
// neither are written as version 1, byte for byte as before.
const Version = 2

// versionChain is the version of files holding a layer chain.
const versionChain = 1

// Section types.
const (
	secSpec  = 'S' // network description
	secLayer = 'L' // pruned, weight-shared tensor
	secRaw   = 'R' // float32 tensor
	secTyped = 'T' // raw tensor of another element type (float16)
	secEnd   = 'E' // end of file
)

// tensorSection reports whether typ is a tensor section, and whether its
// header has a byte between the name and the shape (the kind and flags of
// a layer section, the element type of a typed raw section).
func tensorSection(typ byte) (tensor, headerByte bool) {
	switch typ {
	case secLayer, secTyped:
		return true, true
	case secRaw:
		return true, false
	}
	return false, false
}

// Limits on header fields; anything larger is rejected before allocating.
const (
	MaxSpecBytes = 1 << 20  // uncompressed network description
	MaxNameLen   = 1 << 10  // parameter name
	MaxDims      = 8        // tensor rank
	MaxElems     = 1 << 32  // elements of one tensor (positions are uint32)
	maxSection   = 1 << 40  // section body
	deflateRatio = 1032 + 1 // DEFLATE expands at most 1032:1 (RFC 1951 stored/long matches)
)

// Kind bytes of layer sections: the low four bits are the kind of the
// owning layer, the high four bits flags. A reader refuses a flag it does
// not know, so a flag may change the meaning of the rest of the section.
const (
	kindDense  = 1
	kindConv2D = 2
	kindMask   = 0x0f

	flagHalfCodebook = 0x10 // codebook stored as binary16, 2 bytes an entry
	flagArith        = 0x20 // indices and positions in one cabac stream
	knownFlags       = flagHalfCodebook | flagArith
)

// Element type bytes of typed raw sections ('T').
const (
	elemFloat16 = 1 // IEEE 754 binary16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Errors that FormatError wraps; test with errors.Is.
var (
	ErrFormat   = errors.New("dcz: malformed file")
	ErrMagic    = errors.New("not a .dcz file")
	ErrVersion  = errors.New("unsupported format version")
	ErrChecksum = errors.New("checksum mismatch")
)

// FormatError describes malformed input: the file offset where the problem
// was found and what is wrong. It matches ErrFormat and its cause (ErrMagic,
// ErrVersion, ErrChecksum, io.ErrUnexpectedEOF, huffman.ErrCorrupt,
// sparse.ErrCorrupt) with errors.Is.
type FormatError struct {
	Offset int64  // byte offset in the file
	What   string // what is wrong, naming the section
	Err    error  // cause, may be nil
}

func (e *FormatError) Error() string {
	if e.Err != nil && e.What == "" {
		return fmt.Sprintf("dcz: offset %d: %v", e.Offset, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("dcz: offset %d: %s: %v", e.Offset, e.What, e.Err)
	}
	return fmt.Sprintf("dcz: offset %d: %s", e.Offset, e.What)
}

// Unwrap returns ErrFormat and the cause.
func (e *FormatError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrFormat}
	}
	return []error{ErrFormat, e.Err}
}

// Model is a whole compressed network: its description and every
// parameter tensor, either pruned and weight-shared (Layers) or plain
// float32 (Raw, typically biases). Each parameter of Spec appears exactly
// once in Layers or Raw. With a tensors-only Spec (see TensorsOnly) the
// tensors are any named tensors, each name once, written in slice order.
type Model struct {
	Spec   arch.Spec
	Layers []Layer
	Raw    []Tensor
	// Graph, in a version 2 file, is the whole network as a graph: its
	// structure and int64 constants, each float parameter a stand-in with
	// its shape and no data for the tensor of the same name in Layers or
	// Raw (WithWeights puts them together). Spec is then tensors-only.
	Graph *graph.Graph
	Ancillary
}

// Layer is a pruned, weight-shared tensor with its relative-index width.
type Layer struct {
	quantize.Layer
	// Kind is the kind of the network layer owning the tensor (arch.Dense
	// or arch.Conv2D). The Encoder fills it from the Spec when empty.
	Kind arch.Kind
	// IndexBits is the width b of the gap between survivors (package
	// sparse); 0 selects the paper's width for Kind (settings.PaperBits).
	IndexBits int
	// Precision is how the codebook is stored: Float32 (the default) or
	// Float16, whose values the codebook must then hold exactly (see
	// SetFloat16).
	Precision Precision
	// Coder is the entropy coder of the indices and positions: Huffman
	// (the default), the arithmetic coder, or whichever is smaller.
	Coder Coder
}

// Tensor is a parameter stored as raw values, row-major.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	// Precision is how the values are stored: Float32 (the default, an
	// 'R' section) or Float16 (a 'T' section), whose values Data must then
	// hold exactly (see SetFloat16).
	Precision Precision
}

func kindByte(k arch.Kind) (byte, bool) {
	switch k {
	case arch.Dense:
		return kindDense, true
	case arch.Conv2D:
		return kindConv2D, true
	}
	return 0, false
}

func kindOf(b byte) (arch.Kind, bool) {
	switch b {
	case kindDense:
		return arch.Dense, true
	case kindConv2D:
		return arch.Conv2D, true
	}
	return "", false
}

// TensorsOnly reports whether spec describes no network (no input shape
// and no layers): a file with such a description holds any set of named
// tensors, for models whose architecture the format cannot express (see
// docs/FORMAT.md). Its tensors may have any names and shapes within the
// limits, each name once, and a layer's Kind is chosen by the writer.
func TensorsOnly(spec arch.Spec) bool { return len(spec.Input) == 0 && len(spec.Layers) == 0 }

// paramTable indexes the parameters of a Spec by name. For a tensors-only
// description it is open: every name is accepted once and none is required.
type paramTable struct {
	info  map[string]arch.ParamInfo
	kind  map[string]arch.Kind
	order []string
	open  bool
}

func newParamTable(s arch.Spec) (*paramTable, error) {
	if TensorsOnly(s) {
		return &paramTable{open: true}, nil
	}
	if _, err := s.Footprint(); err != nil { // sizes that overflow
		return nil, err
	}
	ps, err := s.Params()
	if err != nil {
		return nil, err
	}
	t := &paramTable{info: map[string]arch.ParamInfo{}, kind: map[string]arch.Kind{}}
	for _, p := range ps {
		if uint64(p.Size()) > MaxElems {
			return nil, fmt.Errorf("dcz: parameter %s has %d elements, over the limit of 2^32", p.Name, p.Size())
		}
		t.info[p.Name] = p
		t.kind[p.Name] = s.Layers[p.Layer].Kind
		t.order = append(t.order, p.Name)
	}
	return t, nil
}

// check reports whether name is a parameter of the spec with this shape.
func (t *paramTable) check(name string, shape []int) error {
	if t.open {
		switch {
		case name == "" || len(name) > MaxNameLen:
			return fmt.Errorf("tensor name of %d bytes outside 1..%d", len(name), MaxNameLen)
		case len(shape) > MaxDims || numel(shape) < 0:
			return fmt.Errorf("tensor %s: shape %s outside the limits", name, budget.Shape(shape))
		}
		return nil
	}
	p, ok := t.info[name]
	if !ok {
		return fmt.Errorf("no parameter %q in the network description", name)
	}
	if !slices.Equal(p.Shape, shape) {
		return fmt.Errorf("parameter %s has shape %s, the network description says %s", name, budget.Shape(shape), budget.Shape(p.Shape))
	}
	return nil
}

// kindFor returns the layer kind of parameter name: the network's for a
// spec, else given, or by rank for tensors-only files (rank 4 is a
// convolution kernel, anything else is treated as fully connected).
func (t *paramTable) kindFor(name string, given arch.Kind, shape []int) arch.Kind {
	switch {
	case !t.open:
		return t.kind[name]
	case given != "":
		return given
	}
	return settings.KindOfShape(shape)
}

// numel is the element count of shape, or -1 if a dimension is negative
// or over MaxElems or the product exceeds MaxElems. A zero dimension gives
// 0: an empty tensor, which only raw sections may hold.
func numel(shape []int) int {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 || uint64(d) > MaxElems || d > 0 && n > MaxElems/uint64(d) {
			return -1
		}
		n *= uint64(d)
	}
	return int(n)
}

// parseKindByte splits the kind byte of a layer section into the kind of
// the owning layer and the precision of the codebook, refusing an unknown
// kind or flag.
func parseKindByte(b byte) (arch.Kind, Precision, error) {
	k, ok := kindOf(b & kindMask)
	if !ok {
		return "", 0, fmt.Errorf("unknown layer kind %d", b&kindMask)
	}
	if f := b &^ (kindMask | knownFlags); f != 0 {
		return "", 0, fmt.Errorf("unknown flags 0x%02x in the kind byte 0x%02x", f, b)
	}
	p := Float32
	if b&flagHalfCodebook != 0 {
		p = Float16
	}
	return k, p, nil
}

// elemPrecision is the precision of a typed raw section's element type.
func elemPrecision(b byte) (Precision, bool) {
	if b == elemFloat16 {
		return Float16, true
	}
	return 0, false
}
