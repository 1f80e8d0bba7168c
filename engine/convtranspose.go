package engine

// ConvTranspose: the adjoint of Conv with respect to its input (a
// "deconvolution"). For x [N, C, H, W], weights W [C, M/G, kH, kW] in G
// groups and an optional bias b [M], with c in group g = c / (C/G) and
// m' = m - g*M/G,
//
//	y[n,m,p,q] = b[m] + sum over (c,i,j,u,v) with i*sH - pT + u*dH = p and j*sW - pL + v*dW = q
//	                    of x[n,c,i,j] * W[c,m',u,v].
//
// Per axis the output size is s*(in-1) + output_padding + ((k-1)*d + 1) -
// padBegin - padEnd. When output_shape is given (or auto_pad is SAME_*,
// which asks for in*s), the total padding s*(in-1) + output_padding +
// (k-1)*d + 1 - out is split as the ONNX specification says: SAME_UPPER
// puts the odd one at the end, otherwise at the start. VALID pads nothing.
//
// Seen from the Conv that reads y and writes x's positions with the same
// window, the forward pass is that Conv's backward pass for its input:
// cols[M/G*kH*kW, H*W] = W_g^T * x_g (gemm), folded into y (col2im). The
// backward pass is that Conv's forward and weight gradient:
//
//	dx_g += W_g * im2col(dy_g),   dW_g += x_g * im2col(dy_g)^T,   db[m] += sum dy[.,m,.,.].

import (
	"fmt"
	"runtime"

	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildConvTranspose, "ConvTranspose")
}

// convTransposeKernel is a ConvTranspose node. Its geom is the adjoint
// Conv's: input y (c = M/G channels of oh x ow... stored as h x w) and
// output positions at x's H x W.
type convTransposeKernel struct {
	geom    convGeom
	n       int
	group   int
	c, cg   int // input channels, per group
	m       int // output channels
	kt      int // M/G * kH * kW: rows of cols
	inP     int // H * W
	outP    int // OH * OW
	hasBias bool

	x, wt, bias, y []float32
	dy, dx, dw     []float32
	dwParts        dwPartials
	chunks         int
	fwdFn, bwdFn   func(lo, hi int)
}

func buildConvTranspose(b *Build) (Kernel, error) {
	if len(b.In) < 2 || len(b.In) > 3 {
		return nil, fmt.Errorf("ConvTranspose takes 2 or 3 inputs (X, W, optional B), got %d", len(b.In))
	}
	if len(b.Out) != 1 {
		return nil, fmt.Errorf("ConvTranspose has 1 output, the node names %d", len(b.Out))
	}
	xs, err := b.InShape(0)
	if err != nil {
		return nil, err
	}
	ws, err := b.InShape(1)
	if err != nil {
		return nil, err
	}
	for i, m := range b.In {
		if m != nil && m.DType != graph.Float32 {
			return nil, fmt.Errorf("input %d is %v: ConvTranspose takes float32 tensors", i, m.DType)
		}
	}
	nsp, h, w, err := convSpatial(xs, "input X")
	if err != nil {
		return nil, err
	}
	if len(ws) != len(xs) {
		return nil, fmt.Errorf("weight W has shape %s: want rank %d like X %s ([C, M/group, kernel...])", ShapeString(ws), len(xs), ShapeString(xs))
	}
	n, c := xs[0], xs[1]
	group64, err := b.Node.AttrInt("group", 1)
	if err != nil {
		return nil, err
	}
	if group64 < 1 || group64 > int64(max(c, 1)) {
		return nil, fmt.Errorf("attribute group = %d: must be in [1, C = %d]", group64, c)
	}
	group := int(group64)
	if c < 1 || ws[1] < 1 {
		return nil, fmt.Errorf("X %s and W %s: the channel counts must be positive", ShapeString(xs), ShapeString(ws))
	}
	if ws[0] != c {
		return nil, fmt.Errorf("weight W %s: dimension 0 must be X's channels (%d)", ShapeString(ws), c)
	}
	if c%group != 0 {
		return nil, fmt.Errorf("group = %d must divide the input channels (%d)", group, c)
	}
	mg := ws[1]
	m, ok := convMul(convMaxElems, mg, group)
	if !ok {
		return nil, fmt.Errorf("weight W %s: too many output channels", ShapeString(ws))
	}
	if len(b.In) == 3 && b.In[2] != nil {
		bs := b.In[2].Shape
		if len(bs) != 1 || bs[0] != m {
			return nil, fmt.Errorf("bias B has shape %s, want [%d] (one per output channel)", ShapeString(bs), m)
		}
	}
	win, err := convReadWindow(b.Node, nsp, ws[2:])
	if err != nil {
		return nil, err
	}
	outPad, _, err := convInts(b.Node, "output_padding", nsp, 0, 0)
	if err != nil {
		return nil, err
	}
	outShape, err := b.Node.AttrInts("output_shape", nil)
	if err != nil {
		return nil, err
	}
	if outShape != nil {
		if len(outShape) == nsp+2 { // some exporters give the whole shape
			outShape = outShape[2:]
		}
		if len(outShape) != nsp {
			return nil, fmt.Errorf("attribute output_shape %v: want %d spatial sizes", outShape, nsp)
		}
	}
	ins := [2]int{h, w}
	var outs [2]int
	off := 2 - nsp
	for i := range 2 {
		k, s, d := win.kernel[i], win.strides[i], win.dilations[i]
		op, want := 0, -1
		if i >= off {
			op = outPad[i-off]
			if outShape != nil {
				if outShape[i-off] < 1 || outShape[i-off] > convMaxElems {
					return nil, fmt.Errorf("attribute output_shape %v: sizes must be positive", outShape)
				}
				want = int(outShape[i-off])
			}
		} else {
			want = 1
		}
		if op >= max(s, d) {
			return nil, fmt.Errorf("attribute output_padding %v: each value must be less than the stride or the dilation", outPad)
		}
		natural := s*(ins[i]-1) + op + (k-1)*d + 1
		if want < 0 && (win.autoPad == "SAME_UPPER" || win.autoPad == "SAME_LOWER") {
			want = ins[i] * s
		}
		switch {
		case i < off:
			win.pads[i], win.pads[i+2] = 0, 0
		case want >= 0:
			total := natural - want
			if total < 0 {
				return nil, fmt.Errorf("output size %d is larger than the %d this stride, kernel and output_padding can produce from %d", want, natural, ins[i])
			}
			if win.autoPad == "SAME_UPPER" {
				win.pads[i], win.pads[i+2] = total/2, total-total/2
			} else {
				win.pads[i], win.pads[i+2] = total-total/2, total/2
			}
		case win.autoPad == "VALID":
			win.pads[i], win.pads[i+2] = 0, 0
		}
		outs[i] = natural - win.pads[i] - win.pads[i+2]
		if outs[i] < 1 {
			return nil, fmt.Errorf("pads %v leave an empty output along axis %d (%d before padding)", win.pads, i-off, natural)
		}
	}
	g := convGeom{c: mg, h: outs[0], w: outs[1], oh: h, ow: w, kh: win.kernel[0], kw: win.kernel[1],
		sh: win.strides[0], sw: win.strides[1], dh: win.dilations[0], dw: win.dilations[1],
		pt: win.pads[0], pl: win.pads[1], pb: win.pads[2], pr: win.pads[3], spatial: nsp}
	if _, ok := convMul(convMaxElems, n, m, outs[0], outs[1]); !ok {
		return nil, fmt.Errorf("the output [%d,%d,%d,%d] is too large", n, m, outs[0], outs[1])
	}
	kt, ok := convMul(convMaxElems, mg, g.kh, g.kw)
	if !ok {
		return nil, fmt.Errorf("the kernel %s is too large", ShapeString(ws))
	}
	if _, ok := convMul(1<<31, kt, w); !ok {
		return nil, fmt.Errorf("one unfolded row (%d taps x %d positions) is too large", kt, w)
	}
	k := &convTransposeKernel{geom: g, n: n, group: group, c: c, cg: c / group, m: m, kt: kt,
		inP: h * w, outP: outs[0] * outs[1], hasBias: len(b.In) == 3 && b.In[2] != nil}
	k.fwdFn, k.bwdFn = k.forwardChunks, k.backwardChunks
	if nsp == 1 {
		b.Out[0].Shape = []int{n, m, outs[1]}
	} else {
		b.Out[0].Shape = []int{n, m, outs[0], outs[1]}
	}
	return k, nil
}

func (k *convTransposeKernel) chunk(c int) (lo, hi int) {
	return c * k.n / k.chunks, (c + 1) * k.n / k.chunks
}

func (k *convTransposeKernel) release() {
	k.x, k.wt, k.bias, k.y, k.dy, k.dx, k.dw = nil, nil, nil, nil, nil, nil, nil
}

func (k *convTransposeKernel) Forward(in, out []*graph.Tensor) {
	k.x, k.wt, k.y = in[0].F, in[1].F, out[0].F
	k.bias = nil
	if k.hasBias {
		k.bias = in[2].F
	}
	defer k.release()
	if k.n == 1 {
		k.forwardSample(0, false)
		return
	}
	k.chunks = max(1, min(runtime.GOMAXPROCS(0), k.n))
	parallel.For(k.chunks, 1, k.fwdFn)
}

func (k *convTransposeKernel) forwardChunks(lo, hi int) {
	for c := lo; c < hi; c++ {
		s0, s1 := k.chunk(c)
		for s := s0; s < s1; s++ {
			k.forwardSample(s, true)
		}
	}
}

// unfold and fold run im2col and col2im of the adjoint Conv, on all cores
// when the caller is alone.
func (k *convTransposeKernel) unfold(y, cols []float32, oy0, oy1 int, serial bool) {
	g := &k.geom
	if serial || runtime.GOMAXPROCS(0) == 1 || k.kt*(oy1-oy0)*g.ow < 1<<15 {
		g.im2col(y, cols, oy0, oy1, 0, k.kt)
		return
	}
	parallel.For(k.kt, 8, func(lo, hi int) { g.im2col(y, cols, oy0, oy1, lo, hi) })
}

func (k *convTransposeKernel) fold(cols, y []float32, oy0, oy1 int, serial bool) {
	g := &k.geom
	if serial || runtime.GOMAXPROCS(0) == 1 || g.c < 2 || k.kt*(oy1-oy0)*g.ow < 1<<15 {
		g.col2im(cols, y, oy0, oy1, 0, g.c)
		return
	}
	parallel.For(g.c, 1, func(lo, hi int) { g.col2im(cols, y, oy0, oy1, lo, hi) })
}

func (k *convTransposeKernel) forwardSample(s int, serial bool) {
	g := &k.geom
	sg := convGemm(serial)
	x := k.x[s*k.c*k.inP : (s+1)*k.c*k.inP]
	y := k.y[s*k.m*k.outP : (s+1)*k.m*k.outP]
	if k.hasBias {
		for o := range k.m {
			row := y[o*k.outP : (o+1)*k.outP]
			convFill(row, k.bias[o])
		}
	} else {
		clear(y)
	}
	rows := g.tileRows()
	buf := convGet(k.kt * rows * g.ow)
	defer convPut(buf)
	mg := g.c
	for gi := range k.group {
		xg := x[gi*k.cg*k.inP : (gi+1)*k.cg*k.inP]
		wg := k.wt[gi*k.cg*k.kt : (gi+1)*k.cg*k.kt]
		yg := y[gi*mg*k.outP : (gi+1)*mg*k.outP]
		for oy0 := 0; oy0 < g.oh; oy0 += rows {
			oy1 := min(g.oh, oy0+rows)
			pt := (oy1 - oy0) * g.ow
			cols := (*buf)[:k.kt*pt]
			// cols[kt, tile] = W_g[cg, kt]^T * X_g[cg, tile]
			sg(true, false, k.kt, pt, k.cg, 1, wg, k.kt, xg[oy0*g.ow:], k.inP, 0, cols, pt)
			k.fold(cols, yg, oy0, oy1, serial)
		}
	}
}

func (k *convTransposeKernel) Backward(in, out, dout, din []*graph.Tensor) {
	k.x, k.wt, k.dy = in[0].F, in[1].F, dout[0].F
	defer k.release()
	if din[0] != nil {
		k.dx = din[0].F
	}
	if din[1] != nil {
		k.dw = din[1].F
	}
	if len(din) > 2 && din[2] != nil {
		db := din[2].F
		for s := range k.n {
			for o := range k.m {
				var sum float32
				for _, v := range k.dy[(s*k.m+o)*k.outP : (s*k.m+o+1)*k.outP] {
					sum += v
				}
				db[o] += sum
			}
		}
	}
	if k.dx == nil && k.dw == nil {
		return
	}
	if k.n == 1 {
		k.backwardSample(0, k.dw, false)
		return
	}
	k.chunks = max(1, min(runtime.GOMAXPROCS(0), k.n))
	k.dwParts.prepare(k.chunks, k.dw)
	parallel.For(k.chunks, 1, k.bwdFn)
	k.dwParts.reduce(k.dw)
}

func (k *convTransposeKernel) backwardChunks(lo, hi int) {
	for c := lo; c < hi; c++ {
		dw := k.dwParts.of(c, k.dw)
		s0, s1 := k.chunk(c)
		for s := s0; s < s1; s++ {
			k.backwardSample(s, dw, true)
		}
	}
}

func (k *convTransposeKernel) backwardSample(s int, dw []float32, serial bool) {
	g := &k.geom
	sg := convGemm(serial)
	x := k.x[s*k.c*k.inP : (s+1)*k.c*k.inP]
	dy := k.dy[s*k.m*k.outP : (s+1)*k.m*k.outP]
	var dx []float32
	if k.dx != nil {
		dx = k.dx[s*k.c*k.inP : (s+1)*k.c*k.inP]
	}
	rows := g.tileRows()
	buf := convGet(k.kt * rows * g.ow)
	defer convPut(buf)
	mg := g.c
	for gi := range k.group {
		xg := x[gi*k.cg*k.inP : (gi+1)*k.cg*k.inP]
		wg := k.wt[gi*k.cg*k.kt : (gi+1)*k.cg*k.kt]
		dyg := dy[gi*mg*k.outP : (gi+1)*mg*k.outP]
		for oy0 := 0; oy0 < g.oh; oy0 += rows {
			oy1 := min(g.oh, oy0+rows)
			pt := (oy1 - oy0) * g.ow
			cols := (*buf)[:k.kt*pt]
			k.unfold(dyg, cols, oy0, oy1, serial)
			if dx != nil {
				// dX_g[cg, tile] += W_g[cg, kt] * cols[kt, tile]
				sg(false, false, k.cg, pt, k.kt, 1, wg, k.kt, cols, pt, 1, dx[gi*k.cg*k.inP+oy0*g.ow:], k.inP)
			}
			if dw != nil {
				// dW_g[cg, kt] += X_g[cg, tile] * cols[kt, tile]^T
				sg(false, true, k.cg, k.kt, pt, 1, xg[oy0*g.ow:], k.inP, cols, pt, 1, dw[gi*k.cg*k.kt:], k.kt)
			}
		}
	}
}
