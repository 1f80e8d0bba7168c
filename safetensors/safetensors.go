// Package safetensors reads and writes the safetensors tensor format
// (https://github.com/huggingface/safetensors):
//
//	8 bytes     N, the header length, little-endian uint64
//	N bytes     a JSON object: tensor name -> {"dtype", "shape",
//	            "data_offsets": [begin, end]}, plus an optional
//	            "__metadata__" object of string -> string, padded with
//	            spaces
//	rest        the data area: each tensor's row-major little-endian
//	            elements at [begin, end) relative to the area's start
//
// Tensors are converted to and from float32: F32 exactly, F16 and BF16 by
// widening (exact) on read and round-to-nearest-even on write. Every size in
// a header is checked against the file before anything is allocated, as the
// reference implementation does: offsets must tile the data area exactly,
// with no gap or overlap, and each tensor's byte length must equal its
// element count times its element size.
package safetensors

import "fmt"

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// the same 100 MB limit).
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header key of the string map.
const metadataKey = "__metadata__"

// Tensor is a named float32 tensor.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32 // row-major, len(Data) == product of Shape
	// DType is the element type in the file: set by the readers, and used
	// by the writers ("" means F32).
	DType DType
}

// File is a whole safetensors file held in memory.
type File struct {
	Metadata map[string]string // nil or empty: no "__metadata__"
	Tensors  []Tensor
}

// Get returns the tensor with the given name.
func (f *File) Get(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// Info describes a tensor without its data: what a writer needs up front.
type Info struct {
	Name  string
	DType DType
	Shape []int
}

// Entry is a tensor's header entry: Begin and End are byte offsets into the
// data area, which starts at DataOffset of the Reader.
type Entry struct {
	Info
	Begin, End int64
}

// Numel is the number of elements of the tensor.
func (e Entry) Numel() int { return numel(e.Shape) }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// FormatError reports a malformed file; Offset is the byte position in the
// file where the problem was found, or -1 when it concerns the whole header.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return "safetensors: " + e.Msg
	}
	return fmt.Sprintf("safetensors: %s (at offset %d)", e.Msg, e.Offset)
}

func formatErr(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// DTypeError reports a tensor whose element type this package cannot
// handle: unknown, or not convertible to float32.
type DTypeError struct {
	Tensor string
	DType  DType
}

func (e *DTypeError) Error() string {
	return fmt.Sprintf("safetensors: tensor %q has dtype %q; only F32, F16 and BF16 are supported", e.Tensor, e.DType)
}
