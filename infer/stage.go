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
	runProduct(&s.prod, &s.wg)
}

// im2col unfolds x [c, h, w, n] into cols [c*kh*kw, oh, ow, n]: row
// (ci, u, v) holds, for every output position and sample, the input value
// under kernel tap (u, v) of channel ci, zero in the padding.
func im2col(g *geom, x, cols []float32, n int) {
	rowLen := g.oh * g.ow * n
	r := 0
	for ci := range g.c {
		plane := x[ci*g.h*g.w*n : (ci+1)*g.h*g.w*n]
		for u := range g.kh {
			for v := range g.kw {
				row := cols[r*rowLen : (r+1)*rowLen]
				r++
				o := 0
				for oy := range g.oh {
					iy := oy*g.sh - g.ph + u
					if iy < 0 || iy >= g.h {
						clear(row[o : o+g.ow*n])
						o += g.ow * n
						continue
					}
					line := plane[iy*g.w*n : (iy+1)*g.w*n]
					for ox := range g.ow {
						ix := ox*g.sw - g.pw + v
						if ix < 0 || ix >= g.w {
							clear(row[o : o+n])
						} else {
							copy(row[o:o+n], line[ix*n:(ix+1)*n])
						}
						o += n
					}
				}
			}
		}
	}
}

// pool computes a max- or average-pool of x [c, h, w, n] into
// y [c, oh, ow, n]. Windows are clipped to the input, as in package nn.
func pool(g *geom, x, y []float32, n int, isMax bool) {
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
