package nn

import "github.com/deepcompress/deepcompress/gemm"

// dense computes y = W*x + b for each sample; W is [out, in].
type dense struct {
	inputGrad
	in, out int
	w, b    *Param // b is nil without bias
	x       *Tensor
	y, dx   Tensor
}

func newDense(name string, in, out int, bias bool) *dense {
	d := &dense{in: in, out: out, w: newParam(name+".weight", []int{out, in}, true)}
	if bias {
		d.b = newParam(name+".bias", []int{out}, false)
	}
	return d
}

func (d *dense) params() []*Param {
	if d.b == nil {
		return []*Param{d.w}
	}
	return []*Param{d.w, d.b}
}

func (d *dense) forward(x *Tensor, train bool) *Tensor {
	n := x.batch()
	d.x = x
	y := d.y.resize(n, d.out)
	// Y[n,out] = X[n,in] * W^T
	gemm.Sgemm(false, true, n, d.out, d.in, 1, x.Data, d.in, d.w.Data, d.in, 0, y.Data, d.out)
	if d.b != nil {
		addRowBias(y.Data, d.b.Data)
	}
	return y
}

func (d *dense) backward(dy *Tensor) *Tensor {
	n := dy.batch()
	// dW[out,in] = dY^T * X
	gemm.Sgemm(true, false, d.out, d.in, n, 1, dy.Data, d.out, d.x.Data, d.in, 0, d.w.Grad, d.in)
	if d.b != nil {
		sumRows(d.b.Grad, dy.Data)
	}
	if !d.needDX {
		return nil
	}
	dx := d.dx.resize(n, d.in)
	// dX[n,in] = dY * W
	gemm.Sgemm(false, false, n, d.in, d.out, 1, dy.Data, d.out, d.w.Data, d.in, 0, dx.Data, d.in)
	return dx
}

// addRowBias adds b to every row of y (rows of len(b)).
func addRowBias(y, b []float32) {
	for off := 0; off+len(b) <= len(y); off += len(b) {
		row := y[off : off+len(b)]
		for j, v := range b {
			row[j] += v
		}
	}
}

// sumRows sets g to the column sums of m (rows of len(g)).
func sumRows(g, m []float32) {
	clear(g)
	for off := 0; off+len(g) <= len(m); off += len(g) {
		row := m[off : off+len(g)]
		for j, v := range row {
			g[j] += v
		}
	}
}
