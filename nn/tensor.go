package nn

// Tensor is a row-major float32 array whose first dimension is the batch.
type Tensor struct {
	Shape []int
	Data  []float32
}

// resize makes t hold shape, reusing its storage when large enough. The
// contents are unspecified afterwards.
func (t *Tensor) resize(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if cap(t.Data) < n {
		t.Data = make([]float32, n)
	}
	t.Data = t.Data[:n]
	t.Shape = append(t.Shape[:0], shape...)
	return t
}

// batch is the size of the leading dimension.
func (t *Tensor) batch() int { return t.Shape[0] }

// rowLen is the number of elements per sample.
func (t *Tensor) rowLen() int { return len(t.Data) / t.Shape[0] }
