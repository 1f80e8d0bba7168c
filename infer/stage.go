package infer

import (
	"math"

	"github.com/deepcompress/deepcompress/arch"
)

// stageKind is what a stage computes. Flatten and dropout have no stage:
// in the feature-major layout flattening moves nothing, and dropout is the
// identity at inference.
type stageKind uint8

const (
	stageDense   stageKind = iota // y = W*x + b, W [rows, k]
	stageConv                     // the same on the unfolded input, k = inC*kh*kw
	stageMaxPool                  // max over windows, padding never wins
	stageAvgPool                  // mean over windows, padding not counted
	stageReLU                     // y = max(x, 0), when not fused into a product
	stageSoftmax                  // probabilities over the features
)

// geom is the geometry of a convolution or pool on [c, h, w] inputs.
type geom struct {
	c, h, w    int
	oc, oh, ow int
	kh, kw     int
	sh, sw     int
	ph, pw     int
}

func newGeom(l arch.Layer, in, out []int) geom {
	st := l.StrideOrDefault()
	return geom{c: in[0], h: in[1], w: in[2], oc: out[0], oh: out[1], ow: out[2],
		kh: l.Kernel[0], kw: l.Kernel[1], sh: st[0], sw: st[1], ph: l.Pad[0], pw: l.Pad[1]}
}

// pixels is the number of output positions per channel.
func (g *geom) pixels() int { return g.oh * g.ow }

// stage is one step of the compiled network.
type stage struct {
	kind    stageKind
	name    string
	w       *sharedMatrix // the weight, pruned and shared, or
	wd      []float32     // the weight dense, row-major [rows, k]
	b       []float32     // the bias, zeros when the layer has none
	rows, k int
	relu    bool // ReLU fused into the product
	g       geom
	inSize  int // floats per sample
	outSize int
}

// forward computes the stage for n samples, x and y feature-major.
func (st *stage) forward(s *scratch, x, y []float32, n int) {
	switch st.kind {
	case stageDense:
		st.product(s, x, n, y)
	case stageConv:
		lanes := st.g.pixels() * n
		cols := s.cols[:st.k*lanes]
		im2col(&st.g, x, cols, n)
		st.product(s, cols, lanes, y)
	case stageMaxPool, stageAvgPool:
		pool(&st.g, x, y, n, st.kind == stageMaxPool)
	case stageReLU:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case stageSoftmax:
		softmaxColumns(x, y, st.outSize, n)
	}
}

// product computes y [rows, lanes] = W*x + b (+ ReLU) with x [k, lanes].
func (st *stage) product(s *scratch, x []float32, lanes int, y []float32) {
	if st.w == nil {
		denseProduct(st.wd, st.rows, st.k, x, lanes, st.b, y, st.relu)
		return
	}
	s.prod = product{w: st.w, x: x, ldx: lanes, lanes: lanes, b: st.b, y: y, ldy: lanes, relu: st.relu}
	runProduct(&s.prod, &s.split)
}

// im2col unfolds x [c, h, w, n] into cols [c*kh*kw, oh, ow, n]: row
// (ci, u, v) holds, for every output position and sample, the input value
// under kernel tap (u, v) of channel ci, zero in the padding.
func im2col(g *geom, x, cols []float32, n int) {
	// Locals: the stores into cols would make the compiler reload g.
	c, h, w, oh, ow := g.c, g.h, g.w, g.oh, g.ow
	kh, kw, sh, sw, ph, pw := g.kh, g.kw, g.sh, g.sw, g.ph, g.pw
	rowLen := oh * ow * n
	r := 0
	for ci := range c {
		plane := x[ci*h*w*n : (ci+1)*h*w*n]
		for u := range kh {
			for v := range kw {
				row := cols[r*rowLen : (r+1)*rowLen]
				r++
				// Output columns ox0 <= ox < ox1 read inside the input.
				ox0 := max(0, ceilDiv(pw-v, sw))
				ox1 := min(ow, ceilDiv(w+pw-v, sw))
				ix0 := ox0*sw - pw + v
				for oy := range oh {
					out := row[oy*ow*n : (oy+1)*ow*n]
					iy := oy*sh - ph + u
					if iy < 0 || iy >= h || ox0 >= ox1 {
						clear(out)
						continue
					}
					line := plane[iy*w*n : (iy+1)*w*n]
					if n == 1 && sw == 1 && ox0 == 0 && ox1 == ow {
						// The common case at batch 1, inline.
						src := line[ix0 : ix0+ow]
						out = out[:len(src)]
						for i, v := range src {
							out[i] = v
						}
						continue
					}
					imrow(out, line, ox0, ox1, ix0, sw, n)
				}
			}
		}
	}
}

// imrow fills one output row of im2col: zeros, then the input pixels
// ix0, ix0+sw, ... (n values each) for output columns ox0 to ox1-1, then
// zeros.
func imrow(out, line []float32, ox0, ox1, ix0, sw, n int) {
	if n == 1 {
		for i := range out[:ox0] {
			out[i] = 0
		}
		if sw == 1 {
			src := line[ix0 : ix0+ox1-ox0]
			dst := out[ox0:ox1]
			dst = dst[:len(src)]
			for i, v := range src {
				dst[i] = v
			}
		} else {
			for ox, ix := ox0, ix0; ox < ox1; ox, ix = ox+1, ix+sw {
				out[ox] = line[ix]
			}
		}
		for i := ox1; i < len(out); i++ {
			out[i] = 0
		}
		return
	}
	clear(out[:ox0*n])
	clear(out[ox1*n:])
	if sw == 1 {
		copy(out[ox0*n:ox1*n], line[ix0*n:])
		return
	}
	for ox, ix := ox0, ix0; ox < ox1; ox, ix = ox+1, ix+sw {
		copy(out[ox*n:(ox+1)*n], line[ix*n:(ix+1)*n])
	}
}

func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// pool computes a max- or average-pool of x [c, h, w, n] into
// y [c, oh, ow, n]. Windows are clipped to the input, as in package nn.
func pool(g *geom, x, y []float32, n int, isMax bool) {
	if isMax && g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 {
		maxPool2x2(g, x, y, n)
		return
	}
	o := 0
	for ci := range g.c {
		plane := x[ci*g.h*g.w*n : (ci+1)*g.h*g.w*n]
		for oy := range g.oh {
			y0 := oy*g.sh - g.ph
			y1 := min(y0+g.kh, g.h)
			y0 = max(y0, 0)
			for ox := range g.ow {
				x0 := ox*g.sw - g.pw
				x1 := min(x0+g.kw, g.w)
				x0 = max(x0, 0)
				if n == 1 {
					y[o] = poolOne(plane, g.w, y0, y1, x0, x1, isMax)
					o++
					continue
				}
				acc := y[o : o+n]
				o += n
				if isMax {
					for i := range acc {
						acc[i] = float32(math.Inf(-1))
					}
				} else {
					clear(acc)
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						in := plane[(iy*g.w+ix)*n : (iy*g.w+ix+1)*n]
						in = in[:len(acc)]
						if isMax {
							for i, v := range in {
								acc[i] = max(acc[i], v)
							}
						} else {
							for i, v := range in {
								acc[i] += v
							}
						}
					}
				}
				if !isMax {
					cnt := float32((y1 - y0) * (x1 - x0))
					for i := range acc {
						acc[i] /= cnt
					}
				}
			}
		}
	}
}

// maxPool2x2 is pool for the common 2x2 max-pool of stride 2 without
// padding: four loads and three maxima per output value.
func maxPool2x2(g *geom, x, y []float32, n int) {
	c, h, w, oh, ow := g.c, g.h, g.w, g.oh, g.ow
	o := 0
	for ci := range c {
		plane := x[ci*h*w*n : (ci+1)*h*w*n]
		for oy := range oh {
			top := plane[2*oy*w*n : (2*oy+1)*w*n]
			bot := plane[(2*oy+1)*w*n : (2*oy+2)*w*n]
			if n == 1 {
				out := y[o : o+ow]
				o += ow
				top, bot = top[:2*len(out)], bot[:2*len(out)]
				for ox := range out {
					out[ox] = max(max(top[2*ox], top[2*ox+1]), max(bot[2*ox], bot[2*ox+1]))
				}
				continue
			}
			for ox := range ow {
				a, b := top[2*ox*n:(2*ox+2)*n], bot[2*ox*n:(2*ox+2)*n]
				out := y[o : o+n]
				o += n
				for i := range out {
					out[i] = max(max(a[i], a[n+i]), max(b[i], b[n+i]))
				}
			}
		}
	}
}

// poolOne is the max or mean of plane (one sample, width w) over rows
// y0..y1-1 and columns x0..x1-1.
func poolOne(plane []float32, w, y0, y1, x0, x1 int, isMax bool) float32 {
	acc := float32(math.Inf(-1))
	if !isMax {
		acc = 0
	}
	for iy := y0; iy < y1; iy++ {
		for _, v := range plane[iy*w+x0 : iy*w+x1] {
			if isMax {
				acc = max(acc, v)
			} else {
				acc += v
			}
		}
	}
	if !isMax {
		acc /= float32((y1 - y0) * (x1 - x0))
	}
	return acc
}

// softmaxColumns applies Softmax to each of the n columns of x [f, n].
func softmaxColumns(x, y []float32, f, n int) {
	if n == 1 {
		Softmax(y, x)
		return
	}
	for j := range n {
		mx := x[j]
		for i := 1; i < f; i++ {
			mx = max(mx, x[i*n+j])
		}
		var sum float64
		for i := range f {
			e := math.Exp(float64(x[i*n+j] - mx))
			y[i*n+j] = float32(e)
			sum += e
		}
		for i := range f {
			y[i*n+j] = float32(float64(y[i*n+j]) / sum)
		}
	}
}
