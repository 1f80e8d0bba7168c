package nn

import (
	"github.com/deepcompress/deepcompress/gemm"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

// conv2d is a 2-D cross-correlation, y[n,o,i,j] = b[o] +
// sum_{c,u,v} W[o,c,u,v] * x[n,c,i*s-p+u,j*s-p+v], computed as one GEMM
// over the whole batch: the input is unfolded (im2col) into a matrix with
// one row per tap (c,u,v) and one column per output pixel of every sample,
// cols [C*KH*KW, N*OH*OW], so that Y[OC, N*OH*OW] = W[OC, K] * cols and
// every copy in and out of that layout runs over contiguous memory.
type conv2d struct {
	inputGrad
	c, h, w      int // input
	oc, oh, ow   int // output
	kh, kw       int
	sh, sw       int
	ph, pw       int
	weight, bias *Param
	cols, ymat   Tensor // unfolded input; output as [OC, N*P]
	y, dymat, dx Tensor
	dcols        Tensor

	// Arguments of the parallel im2col/col2im passes.
	xData, colData []float32
	batchN         int
	// The passes bound to l once, so that a call allocates nothing.
	im2colFn, col2imFn func(lo, hi int)
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
	np := n * l.oh * l.ow
	cols := l.cols.resize(l.k(), np)
	l.im2col(x.Data, cols.Data, n)
	ymat := l.ymat.resize(l.oc, np)
	// Y[OC, N*P] = W[OC, K] * cols[K, N*P]
	gemm.Sgemm(false, false, l.oc, np, l.k(), 1, l.weight.Data, l.k(), cols.Data, np, 0, ymat.Data, np)
	y := l.y.resize(n, l.oc, l.oh, l.ow)
	var b []float32
	if l.bias != nil {
		b = l.bias.Data
	}
	channelsToNCHW(y.Data, ymat.Data, n, l.oc, l.oh*l.ow, b)
	return y
}

func (l *conv2d) backward(dy *Tensor) *Tensor {
	n := dy.batch()
	np := n * l.oh * l.ow
	dymat := l.dymat.resize(l.oc, np)
	nchwToChannels(dymat.Data, dy.Data, n, l.oc, l.oh*l.ow)
	// dW[OC, K] = dY[OC, N*P] * cols[K, N*P]^T
	gemm.Sgemm(false, true, l.oc, l.k(), np, 1, dymat.Data, np, l.cols.Data, np, 0, l.weight.Grad, l.k())
	if l.bias != nil {
		for o := range l.bias.Grad {
			var s float32
			for _, v := range dymat.Data[o*np : (o+1)*np] {
				s += v
			}
			l.bias.Grad[o] = s
		}
	}
	if !l.needDX {
		return nil
	}
	dcols := l.dcols.resize(l.k(), np)
	// dcols[K, N*P] = W[OC, K]^T * dY[OC, N*P]
	gemm.Sgemm(true, false, l.k(), np, l.oc, 1, l.weight.Data, l.k(), dymat.Data, np, 0, dcols.Data, np)
	dx := l.dx.resize(n, l.c, l.h, l.w)
	l.col2im(dcols.Data, dx.Data, n)
	return dx
}

// span returns, for tap offset v along an axis of input size size, the
// range [lo, hi) of output positions whose tap falls inside the input.
func span(v, pad, stride, size, out int) (lo, hi int) {
	// input index i = o*stride - pad + v must satisfy 0 <= i < size.
	lo = 0
	if d := pad - v; d > 0 {
		lo = (d + stride - 1) / stride
	}
	hi = out
	if last := size - 1 + pad - v; last < 0 {
		hi = 0
	} else {
		hi = min(out, last/stride+1)
	}
	return lo, max(lo, hi)
}

// im2col unfolds x [N,C,H,W] into cols [C*KH*KW, N*OH*OW]; taps that fall
// in the padding are zero. Taps are independent rows: they are filled on
// all cores.
func (l *conv2d) im2col(x, cols []float32, n int) {
	l.xData, l.colData, l.batchN = x, cols, n
	if l.im2colFn == nil {
		l.im2colFn = l.im2colRange
	}
	parallel.For(l.k(), 4, l.im2colFn)
}

// col2im is the adjoint of im2col: it sums every tap of dcols back into dx,
// one sample per worker at a time (taps of a sample overlap, samples do not).
func (l *conv2d) col2im(dcols, dx []float32, n int) {
	l.colData, l.xData, l.batchN = dcols, dx, n
	if l.col2imFn == nil {
		l.col2imFn = l.col2imRange
	}
	parallel.For(n, 4, l.col2imFn)
}

// im2colRange fills the rows of taps lo..hi-1.
func (l *conv2d) im2colRange(lo, hi int) {
	p := l.oh * l.ow
	np := l.batchN * p
	for tap := lo; tap < hi; tap++ {
		c, u, v := tap/(l.kh*l.kw), tap/l.kw%l.kh, tap%l.kw
		ylo, yhi := span(u, l.ph, l.sh, l.h, l.oh)
		xlo, xhi := span(v, l.pw, l.sw, l.w, l.ow)
		row := l.colData[tap*np : (tap+1)*np]
		for b := 0; b < l.batchN; b++ {
			plane := l.xData[(b*l.c+c)*l.h*l.w:]
			out := row[b*p : (b+1)*p]
			if ylo > 0 || yhi < l.oh || xlo > 0 || xhi < l.ow {
				clear(out)
			}
			for oy := ylo; oy < yhi; oy++ {
				// input column of output ox: ox*sw + off
				src := plane[(oy*l.sh-l.ph+u)*l.w:]
				off := v - l.pw
				dst := out[oy*l.ow : (oy+1)*l.ow]
				if l.sw == 1 {
					copy(dst[xlo:xhi], src[xlo+off:xhi+off])
					continue
				}
				for ox := xlo; ox < xhi; ox++ {
					dst[ox] = src[ox*l.sw+off]
				}
			}
		}
	}
}

// col2imRange sums back samples lo..hi-1.
func (l *conv2d) col2imRange(lo, hi int) {
	p := l.oh * l.ow
	np := l.batchN * p
	size := l.c * l.h * l.w
	clear(l.xData[lo*size : hi*size])
	for tap := 0; tap < l.k(); tap++ {
		c, u, v := tap/(l.kh*l.kw), tap/l.kw%l.kh, tap%l.kw
		ylo, yhi := span(u, l.ph, l.sh, l.h, l.oh)
		xlo, xhi := span(v, l.pw, l.sw, l.w, l.ow)
		row := l.colData[tap*np : (tap+1)*np]
		for b := lo; b < hi; b++ {
			plane := l.xData[(b*l.c+c)*l.h*l.w:]
			in := row[b*p : (b+1)*p]
			for oy := ylo; oy < yhi; oy++ {
				dst := plane[(oy*l.sh-l.ph+u)*l.w:]
				off := v - l.pw
				src := in[oy*l.ow : (oy+1)*l.ow]
				if l.sw == 1 {
					d := dst[xlo+off : xhi+off]
					for i, g := range src[xlo:xhi] {
						d[i] += g
					}
					continue
				}
				for ox := xlo; ox < xhi; ox++ {
					dst[ox*l.sw+off] += src[ox]
				}
			}
		}
	}
}

// channelsToNCHW copies ymat [C, N*P] into y [N, C, P], adding bias b[c]
// when b is non-nil.
func channelsToNCHW(y, ymat []float32, n, c, p int, b []float32) {
	for ch := 0; ch < c; ch++ {
		var bias float32
		if b != nil {
			bias = b[ch]
		}
		for s := 0; s < n; s++ {
			src := ymat[ch*n*p+s*p : ch*n*p+(s+1)*p]
			dst := y[(s*c+ch)*p : (s*c+ch+1)*p]
			for i, v := range src {
				dst[i] = v + bias
			}
		}
	}
}

// nchwToChannels is the inverse of channelsToNCHW (without bias).
func nchwToChannels(ymat, y []float32, n, c, p int) {
	for ch := 0; ch < c; ch++ {
		for s := 0; s < n; s++ {
			copy(ymat[ch*n*p+s*p:ch*n*p+(s+1)*p], y[(s*c+ch)*p:(s*c+ch+1)*p])
		}
	}
}
