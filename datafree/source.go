package datafree

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/deepcompress/deepcompress/safetensors"
)

// source reads the elements of one tensor of a safetensors file in chunks,
// converted to float32, so that a tensor is never held whole.
type source struct {
	r     io.ReaderAt
	name  string
	off   int64 // file offset of element 0
	dtype safetensors.DType
	n     int
}

func newSource(r io.ReaderAt, dataOff int64, e safetensors.Entry) *source {
	return &source{r: r, name: e.Name, off: dataOff + e.Begin, dtype: e.DType, n: e.Numel()}
}

// chunkElems is the number of elements read at a time: 1 MiB of F32. (A
// variable so that tests can exercise many chunks on small tensors.)
var chunkElems = 1 << 18

// scan calls fn on consecutive chunks of the elements [lo, hi); start is
// the flat index of vals[0]. vals is reused between calls.
func (s *source) scan(lo, hi int, fn func(start int, vals []float32) error) error {
	if lo >= hi {
		return nil
	}
	c := getChunk()
	defer chunkPool.Put(c)
	size := s.dtype.Size()
	for i := lo; i < hi; i += chunkElems {
		m := min(chunkElems, hi-i)
		if err := s.read(i, c.buf[:m*size], c.vals[:m]); err != nil {
			return err
		}
		if err := fn(i, c.vals[:m]); err != nil {
			return err
		}
	}
	return nil
}

// chunk is a read buffer of chunkElems elements of any float type and
// their float32 values, recycled through chunkPool.
type chunk struct {
	buf  []byte
	vals []float32
}

var chunkPool sync.Pool

func getChunk() *chunk {
	if c, ok := chunkPool.Get().(*chunk); ok && len(c.vals) == chunkElems {
		return c
	}
	return &chunk{buf: make([]byte, 4*chunkElems), vals: make([]float32, chunkElems)}
}

// read fills vals with the elements from start on, using buf for the bytes.
func (s *source) read(start int, buf []byte, vals []float32) error {
	off := s.off + int64(start)*int64(s.dtype.Size())
	n, err := s.r.ReadAt(buf, off)
	if n < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("datafree: reading tensor %q at offset %d: %w", s.name, off, err)
	}
	decodeElems(s.dtype, vals, buf)
	return nil
}

// readAll reads the whole tensor.
func (s *source) readAll() ([]float32, error) {
	out := make([]float32, s.n)
	err := s.scan(0, s.n, func(start int, vals []float32) error {
		copy(out[start:], vals)
		return nil
	})
	return out, err
}

// decodeElems converts little-endian elements of a float type to float32
// (exactly: F16 and BF16 values are all float32 values).
func decodeElems(d safetensors.DType, dst []float32, src []byte) {
	switch d {
	case safetensors.F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case safetensors.F16:
		for i := range dst {
			dst[i] = safetensors.F16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case safetensors.BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	}
}

// minPart is the smallest share of a tensor worth a goroutine of its own.
var minPart = 1 << 20

// split cuts [0, n) into at most workers contiguous parts of at least
// minPart elements (one part for a small tensor); bounds[p] is the start
// of part p and bounds[len-1] == n.
func split(n, workers int) []int {
	p := max(1, min(workers, n/minPart))
	bounds := make([]int, p+1)
	for i := range bounds {
		bounds[i] = int(int64(n) * int64(i) / int64(p))
	}
	return bounds
}

// parallel runs fn(part, lo, hi) for every part of bounds at once and
// returns the first error.
func parallel(bounds []int, fn func(part, lo, hi int) error) error {
	parts := len(bounds) - 1
	if parts == 1 {
		return fn(0, bounds[0], bounds[1])
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() { errs[p] = fn(p, bounds[p], bounds[p+1]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
