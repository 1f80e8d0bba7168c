package nn

import "github.com/deepcompress/deepcompress/gemm"

// conv2d is a 2-D cross-correlation, y[n,o,i,j] = b[o] +
// sum_{c,u,v} W[o,c,u,v] * x[n,c,i*s-p+u,j*s-p+v], computed as one GEMM
// over the whole batch: the input is unfolded (im2col) into a matrix with
// one row per output pixel, [N*OH*OW, C*KH*KW].
type conv2d struct {
	inputGrad
	c, h, w      int // input
	oc, oh, ow   int // output
	kh, kw       int
	sh, sw       int
	ph, pw       int
	weight, bias *Param
	cols, rows   Tensor // unfolded input; output in row layout [N*OH*OW, OC]
	y, drows, dx Tensor
	dcols        Tensor
}

func (l *conv2d) params() []*Param {
	if l.bias == nil {
		return []*Param{l.weight}
	}
	return []*Param{l.weight, l.bias}
}

func (l *conv2d) k() int { return l.c * l.kh * l.kw }

func (l *conv2d) forward(x *Tensor, train bool) *Tensor {
	n := x.batch()
	pix := l.oh * l.ow
	cols := l.cols.resize(n*pix, l.k())
	l.im2col(x.Data, cols.Data, n)
	rows := l.rows.resize(n*pix, l.oc)
	// rows[N*P, OC] = cols[N*P, K] * W[OC, K]^T
	gemm.Sgemm(false, true, n*pix, l.oc, l.k(), 1, cols.Data, l.k(), l.weight.Data, l.k(), 0, rows.Data, l.oc)
	y := l.y.resize(n, l.oc, l.oh, l.ow)
	var b []float32
	if l.bias != nil {
		b = l.bias.Data
	}
	rowsToNCHW(y.Data, rows.Data, n, l.oc, pix, b)
	return y
}

func (l *conv2d) backward(dy *Tensor) *Tensor {
	n := dy.batch()
	pix := l.oh * l.ow
	drows := l.drows.resize(n*pix, l.oc)
	nchwToRows(drows.Data, dy.Data, n, l.oc, pix)
	// dW[OC, K] = drows^T * cols
	gemm.Sgemm(true, false, l.oc, l.k(), n*pix, 1, drows.Data, l.oc, l.cols.Data, l.k(), 0, l.weight.Grad, l.k())
	if l.bias != nil {
		sumRows(l.bias.Grad, drows.Data)
	}
	if !l.needDX {
		return nil
	}
	dcols := l.dcols.resize(n*pix, l.k())
	// dcols[N*P, K] = drows * W
	gemm.Sgemm(false, false, n*pix, l.k(), l.oc, 1, drows.Data, l.oc, l.weight.Data, l.k(), 0, dcols.Data, l.k())
	dx := l.dx.resize(n, l.c, l.h, l.w)
	l.col2im(dcols.Data, dx.Data, n)
	return dx
}

// im2col unfolds x [N,C,H,W] into cols [N*OH*OW, C*KH*KW]; taps that fall
// in the padding are zero.
func (l *conv2d) im2col(x, cols []float32, n int) {
	k := l.k()
	r := 0
	for b := 0; b < n; b++ {
		img := x[b*l.c*l.h*l.w:]
		for oy := 0; oy < l.oh; oy++ {
			for ox := 0; ox < l.ow; ox++ {
				row := cols[r*k : (r+1)*k]
				r++
				j := 0
				for c := 0; c < l.c; c++ {
					plane := img[c*l.h*l.w:]
					for u := 0; u < l.kh; u++ {
						iy := oy*l.sh - l.ph + u
						for v := 0; v < l.kw; v++ {
							ix := ox*l.sw - l.pw + v
							if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
								row[j] = plane[iy*l.w+ix]
							} else {
								row[j] = 0
							}
							j++
						}
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it sums every tap of dcols back into dx.
func (l *conv2d) col2im(dcols, dx []float32, n int) {
	clear(dx)
	k := l.k()
	r := 0
	for b := 0; b < n; b++ {
		img := dx[b*l.c*l.h*l.w:]
		for oy := 0; oy < l.oh; oy++ {
			for ox := 0; ox < l.ow; ox++ {
				row := dcols[r*k : (r+1)*k]
				r++
				j := 0
				for c := 0; c < l.c; c++ {
					plane := img[c*l.h*l.w:]
					for u := 0; u < l.kh; u++ {
						iy := oy*l.sh - l.ph + u
						for v := 0; v < l.kw; v++ {
							ix := ox*l.sw - l.pw + v
							if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
								plane[iy*l.w+ix] += row[j]
							}
							j++
						}
					}
				}
			}
		}
	}
}

// rowsToNCHW transposes rows [N*P, C] into y [N, C, P], adding bias b[c]
// when b is non-nil.
func rowsToNCHW(y, rows []float32, n, c, p int, b []float32) {
	for s := 0; s < n; s++ {
		src := rows[s*p*c : (s+1)*p*c]
		dst := y[s*c*p : (s+1)*c*p]
		for ch := 0; ch < c; ch++ {
			var bias float32
			if b != nil {
				bias = b[ch]
			}
			out := dst[ch*p : (ch+1)*p]
			for i := range out {
				out[i] = src[i*c+ch] + bias
			}
		}
	}
}

// nchwToRows is the inverse transpose of rowsToNCHW (without bias).
func nchwToRows(rows, y []float32, n, c, p int) {
	for s := 0; s < n; s++ {
		src := y[s*c*p : (s+1)*c*p]
		dst := rows[s*p*c : (s+1)*p*c]
		for ch := 0; ch < c; ch++ {
			in := src[ch*p : (ch+1)*p]
			for i, v := range in {
				dst[i*c+ch] = v
			}
		}
	}
}
