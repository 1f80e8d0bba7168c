package nn

import (
	"math"

	"github.com/deepcompress/deepcompress/internal/parallel"
)

// pool2d is a max- or average-pool over kh x kw windows. Windows are
// clipped to the input: padding never wins a max and is not counted in a
// mean (ONNX count_include_pad=0).
type pool2d struct {
	noParams
	inputGrad
	max     bool
	c, h, w int
	oh, ow  int
	kh, kw  int
	sh, sw  int
	ph, pw  int
	argmax  []int32 // per output: flat input index of the max (max-pool)
	y, dx   Tensor

	// Arguments of the parallel passes, and the passes bound to l once.
	x, out          []float32
	max2x2, maxBack func(lo, hi int)
}

func (l *pool2d) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*l.sh-l.ph, ox*l.sw-l.pw
	y1, x1 = min(y0+l.kh, l.h), min(x0+l.kw, l.w)
	return max(y0, 0), y1, max(x0, 0), x1
}

func (l *pool2d) forward(x *Tensor, train bool) *Tensor {
	n := x.batch()
	y := l.y.resize(n, l.c, l.oh, l.ow)
	if l.max {
		if cap(l.argmax) < len(y.Data) {
			l.argmax = make([]int32, len(y.Data))
		}
		l.argmax = l.argmax[:len(y.Data)]
	}
	if l.max && l.kh == 2 && l.kw == 2 && l.sh == 2 && l.sw == 2 && l.ph == 0 && l.pw == 0 {
		l.x, l.out = x.Data, y.Data
		if l.max2x2 == nil {
			l.max2x2 = l.max2x2Range
		}
		parallel.For(n*l.c, 16, l.max2x2)
		return y
	}
	o := 0
	for p := 0; p < n*l.c; p++ {
		base := p * l.h * l.w
		plane := x.Data[base : base+l.h*l.w]
		for oy := 0; oy < l.oh; oy++ {
			for ox := 0; ox < l.ow; ox++ {
				y0, y1, x0, x1 := l.window(oy, ox)
				if l.max {
					best, at := float32(math.Inf(-1)), y0*l.w+x0
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							if v := plane[iy*l.w+ix]; v > best {
								best, at = v, iy*l.w+ix
							}
						}
					}
					y.Data[o], l.argmax[o] = best, int32(base+at)
				} else {
					var s float32
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							s += plane[iy*l.w+ix]
						}
					}
					y.Data[o] = s / float32((y1-y0)*(x1-x0))
				}
				o++
			}
		}
	}
	return y
}

func (l *pool2d) backward(dy *Tensor) *Tensor {
	if !l.needDX {
		return nil
	}
	n := dy.batch()
	dx := l.dx.resize(n, l.c, l.h, l.w)
	if l.max {
		l.out, l.x = dy.Data, dx.Data
		if l.maxBack == nil {
			l.maxBack = l.maxBackRange
		}
		parallel.For(n*l.c, 16, l.maxBack)
		return dx
	}
	clear(dx.Data)
	o := 0
	for p := 0; p < n*l.c; p++ {
		plane := dx.Data[p*l.h*l.w : (p+1)*l.h*l.w]
		for oy := 0; oy < l.oh; oy++ {
			for ox := 0; ox < l.ow; ox++ {
				y0, y1, x0, x1 := l.window(oy, ox)
				g := dy.Data[o] / float32((y1-y0)*(x1-x0))
				o++
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						plane[iy*l.w+ix] += g
					}
				}
			}
		}
	}
	return dx
}

// max2x2Range is the common 2x2, stride 2, unpadded max-pool without the
// general window arithmetic, planes split across the cores.
func (l *pool2d) max2x2Range(lo, hi int) {
	x, y := l.x, l.out
	o := lo * l.oh * l.ow
	for p := lo; p < hi; p++ {
		base := p * l.h * l.w
		for oy := 0; oy < l.oh; oy++ {
			r0 := base + 2*oy*l.w
			r1 := r0 + l.w
			for ox := 0; ox < l.ow; ox++ {
				i := r0 + 2*ox
				best, at := x[i], i
				if v := x[i+1]; v > best {
					best, at = v, i+1
				}
				if v := x[r1+2*ox]; v > best {
					best, at = v, r1+2*ox
				}
				if v := x[r1+2*ox+1]; v > best {
					best, at = v, r1+2*ox+1
				}
				y[o], l.argmax[o] = best, int32(at)
				o++
			}
		}
	}
}

// maxBackRange routes each output gradient to the input that won the max;
// a plane's winners lie in the same plane, so planes split across cores.
func (l *pool2d) maxBackRange(lo, hi int) {
	dy, dx := l.out, l.x
	in, out := l.h*l.w, l.oh*l.ow
	clear(dx[lo*in : hi*in])
	for o := lo * out; o < hi*out; o++ {
		dx[l.argmax[o]] += dy[o]
	}
}
