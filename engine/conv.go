package engine

// Conv: the ONNX 2-D (and 1-D) convolution, with its window arithmetic
// (shared with ConvTranspose and the pools) and the im2col lowering.
//
// For an input x [N, C, H, W], weights W [M, C/G, kH, kW] in G groups and
// an optional bias b [M], output channel m of group g = m / (M/G) is the
// cross-correlation
//
//	y[n,m,i,j] = b[m] + sum_{c,u,v} W[m,c,u,v] * x[n, g*C/G + c, i*sH - pT + u*dH, j*sW - pL + v*dW]
//
// where taps falling outside x (in the padding) read zero. Per axis the
// output size is floor((in + padBegin + padEnd - ((k-1)*d + 1)) / s) + 1,
// with the pads given, or chosen by auto_pad: SAME_UPPER and SAME_LOWER
// give ceil(in / s) outputs, the total padding needed split evenly with the
// odd one at the end (UPPER) or at the start (LOWER); VALID pads nothing.
//
// The backward pass of L(y) is
//
//	dW[m,c,u,v] = sum_{n,i,j} dy[n,m,i,j] * x[n, g*C/G+c, i*sH-pT+u*dH, j*sW-pL+v*dW]
//	dx[n, g*C/G+c, p, q] = sum over the (m,u,v,i,j) whose tap reads (p,q) of W[m,c,u,v] * dy[n,m,i,j]
//	db[m] = sum_{n,i,j} dy[n,m,i,j].
//
// Three kernels compute it. The general one unfolds each sample and group
// (im2col) into cols [C/G*kH*kW, OH*OW] and computes
// Y_g[M/G, OH*OW] = W_g[M/G, C/G*kH*kW] * cols with gemm.Sgemm, in tiles of
// output rows that keep cols small; backward is dW_g += dY_g * cols^T and
// dcols = W_g^T * dY_g folded back (col2im), or, with stride 1, dX_g +=
// Wt_g * im2col(dY_g) where Wt[c,m,u,v] = W[m,c,kH-1-u,kW-1-v] (dX is
// the full correlation of dy with the flipped kernel). A 1x1 kernel with stride 1 and
// no padding needs no unfolding: the sample is already the [C/G, H*W]
// matrix. A depthwise convolution (G == C) is computed plane by plane:
// with AVX2 or AVX-512 (simd_amd64.s) the zero-padded plane is split into
// stride phases and every tap becomes one run of vector FMAs over the
// whole plane (see dwPlan); otherwise a direct loop over a zero-bordered
// copy of the plane (3x3 kernels take all nine taps in one pass). Its
// backward pass is a direct loop too, but for dX with stride 1, a
// depthwise convolution of dy like the forward pass.
// Samples are spread over the cores when the batch has more than one
// (each with a serial gemm, dW accumulated per core and summed); a single
// sample is split into bands of output rows, one per core, unless it is
// large enough for gemm to split it. Depthwise planes are spread over the
// cores at any batch size. The vector depthwise path reaches 15-35
// GFLOP/s on two cores of a Zen 5 (the scalar loops 2-6), where gemm
// reaches 60-180 per core.
//
// Inference programs take other paths: a single-group Conv runs gemm on
// the input planes in place, through row offsets, with weights packed
// once (convdirect.go); the vector depthwise forward pass stacks the
// samples of a channel into one tap run (dwbatch.go, training too, with
// the same sums); and a residual Add and an activation after a Conv are
// applied in its output pass (fuse.go).

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/deepcompress/deepcompress/gemm"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

func init() {
	register(buildConv, "Conv")
}

// convMaxAttr bounds kernel sizes, strides, dilations and pads, so that
// the window arithmetic cannot overflow.
const convMaxAttr = 1 << 24

// convGeom is the geometry of one 2-D window operation on a single plane
// stack: an input of c channels of h x w read through a kh x kw window with
// strides sh, sw, dilations dh, dw and leading pads pt, pl, giving oh x ow
// output positions. 1-D operations have h = oh = kh = 1.
type convGeom struct {
	c, h, w int
	oh, ow  int
	kh, kw  int
	sh, sw  int
	dh, dw  int
	pt, pl  int // padding before (top, left)
	pb, pr  int // padding after (bottom, right)
	spatial int // 1 or 2: the rank of the operation's spatial part
	hasPads bool
}

// convWindow holds a node's window attributes, normalised to two spatial
// axes (a 1-D operation gets a leading axis of size 1).
type convWindow struct {
	kernel    [2]int
	strides   [2]int
	dilations [2]int
	pads      [4]int // top, left, bottom, right
	autoPad   string
}

// convInts reads an ints attribute of the given length (def when absent),
// each value in [lo, convMaxAttr].
func convInts(n *graph.Node, name string, length, lo int, def int) ([]int, bool, error) {
	v, err := n.AttrInts(name, nil)
	if err != nil {
		return nil, false, err
	}
	if v == nil {
		out := make([]int, length)
		for i := range out {
			out[i] = def
		}
		return out, false, nil
	}
	if len(v) != length {
		return nil, true, fmt.Errorf("attribute %s has %d values, want %d for this input's spatial dimensions", name, len(v), length)
	}
	out := make([]int, length)
	for i, x := range v {
		if x < int64(lo) || x > convMaxAttr {
			return nil, true, fmt.Errorf("attribute %s = %v: each value must be in [%d, %d]", name, v, lo, convMaxAttr)
		}
		out[i] = int(x)
	}
	return out, true, nil
}

// convReadWindow reads kernel_shape (checked against kernel when that is
// non-nil, required when it is nil), strides, dilations, pads and auto_pad
// for nsp spatial dimensions (1 or 2).
func convReadWindow(n *graph.Node, nsp int, kernel []int) (*convWindow, error) {
	if nsp != 1 && nsp != 2 {
		return nil, fmt.Errorf("%d spatial dimensions: only 1-D and 2-D inputs ([N,C,W] or [N,C,H,W]) are supported", nsp)
	}
	ks, set, err := convInts(n, "kernel_shape", nsp, 1, 1)
	if err != nil {
		return nil, err
	}
	switch {
	case kernel == nil && !set:
		return nil, fmt.Errorf("attribute kernel_shape is required")
	case kernel != nil && set:
		for i := range ks {
			if ks[i] != kernel[i] {
				return nil, fmt.Errorf("attribute kernel_shape %v does not match the weight's spatial shape %v", ks, kernel)
			}
		}
	case kernel != nil:
		ks = kernel
	}
	for _, k := range ks {
		if k < 1 || k > convMaxAttr {
			return nil, fmt.Errorf("kernel shape %v: each size must be in [1, %d]", ks, convMaxAttr)
		}
	}
	strides, _, err := convInts(n, "strides", nsp, 1, 1)
	if err != nil {
		return nil, err
	}
	dil, _, err := convInts(n, "dilations", nsp, 1, 1)
	if err != nil {
		return nil, err
	}
	pads, _, err := convInts(n, "pads", 2*nsp, 0, 0)
	if err != nil {
		return nil, err
	}
	ap, err := n.AttrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	switch ap {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	case "":
		ap = "NOTSET"
	default:
		return nil, fmt.Errorf("attribute auto_pad %q: want NOTSET, SAME_UPPER, SAME_LOWER or VALID", graph.Short(ap))
	}
	w := &convWindow{kernel: [2]int{1, 1}, strides: [2]int{1, 1}, dilations: [2]int{1, 1}, autoPad: ap}
	off := 2 - nsp
	for i := range nsp {
		w.kernel[off+i] = ks[i]
		w.strides[off+i] = strides[i]
		w.dilations[off+i] = dil[i]
		w.pads[off+i] = pads[i]
		w.pads[2+off+i] = pads[nsp+i]
	}
	return w, nil
}

// convOutSize computes one axis of a window operation: the output size and
// the pads actually used. ceil selects ceil_mode (pools); a window that
// would start in the trailing padding is then dropped.
func convOutSize(in, k, s, d, padB, padE int, autoPad string, ceil bool) (out, pb, pe int, err error) {
	dk := (k-1)*d + 1
	switch autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + s - 1) / s
		total := max(0, (out-1)*s+dk-in)
		pb, pe = total/2, total-total/2
		if autoPad == "SAME_LOWER" {
			pb, pe = pe, pb
		}
		return out, pb, pe, nil
	case "VALID": // ceil_mode changes nothing: ceil((in-dk+1)/s) = floor((in-dk)/s)+1
		padB, padE, ceil = 0, 0, false
	}
	span := in + padB + padE - dk
	if span < 0 {
		return 0, 0, 0, fmt.Errorf("the window (%d with dilation %d spans %d) is larger than the padded input (%d + %d + %d)", k, d, dk, in, padB, padE)
	}
	out = span/s + 1
	if ceil && span%s != 0 {
		out++
		if (out-1)*s >= in+padB {
			out--
		}
	}
	return out, padB, padE, nil
}

// convSpatial checks that shape is [N, C, spatial...] with 1 or 2 spatial
// dimensions and returns them as (h, w) (h = 1 for 1-D).
func convSpatial(shape []int, what string) (nsp, h, w int, err error) {
	switch len(shape) {
	case 3:
		nsp, h, w = 1, 1, shape[2]
	case 4:
		nsp, h, w = 2, shape[2], shape[3]
	default:
		return 0, 0, 0, fmt.Errorf("%s has shape %s: want [N,C,W] or [N,C,H,W] (only 1-D and 2-D are supported)", what, ShapeString(shape))
	}
	if h < 1 || w < 1 {
		return 0, 0, 0, fmt.Errorf("%s has shape %s: the spatial dimensions must not be empty", what, ShapeString(shape))
	}
	return nsp, h, w, nil
}

// geom computes the geometry of the window over an input of c channels of
// h x w.
func (win *convWindow) geom(nsp, c, h, w int, ceil bool) (convGeom, error) {
	g := convGeom{c: c, h: h, w: w, kh: win.kernel[0], kw: win.kernel[1], sh: win.strides[0], sw: win.strides[1],
		dh: win.dilations[0], dw: win.dilations[1], spatial: nsp}
	var err error
	if g.oh, g.pt, g.pb, err = convOutSize(h, g.kh, g.sh, g.dh, win.pads[0], win.pads[2], win.autoPad, ceil); err != nil {
		return g, err
	}
	if g.ow, g.pl, g.pr, err = convOutSize(w, g.kw, g.sw, g.dw, win.pads[1], win.pads[3], win.autoPad, ceil); err != nil {
		return g, err
	}
	g.hasPads = g.pt|g.pl|g.pb|g.pr != 0
	return g, nil
}

// outShape is the output shape [n, m, (oh,) ow].
func (g *convGeom) outShape(n, m int) []int {
	if g.spatial == 1 {
		return []int{n, m, g.ow}
	}
	return []int{n, m, g.oh, g.ow}
}

// convRange returns the output positions [lo, hi) along an axis whose tap
// sits at offset off (input index = o*s + off) and stays in [0, size).
func convRange(off, s, size, out int) (lo, hi int) {
	if off < 0 {
		lo = min(out, (-off+s-1)/s)
	}
	last := size - 1 - off
	if last < 0 {
		return 0, 0
	}
	hi = min(out, last/s+1)
	if hi < lo {
		return lo, lo
	}
	return lo, hi
}

// taps is the number of rows of the unfolded input, c*kh*kw.
func (g *convGeom) taps() int { return g.c * g.kh * g.kw }

// im2col unfolds output rows [oy0, oy1) of x [c, h, w] into cols
// [c*kh*kw, (oy1-oy0)*ow], taps [tlo, thi) only; taps in the padding are
// zero.
func (g *convGeom) im2col(x, cols []float32, oy0, oy1, tlo, thi int) {
	pt := (oy1 - oy0) * g.ow
	khw := g.kh * g.kw
	for tap := tlo; tap < thi; tap++ {
		c, u, v := tap/khw, tap/g.kw%g.kh, tap%g.kw
		offY, offX := u*g.dh-g.pt, v*g.dw-g.pl
		xlo, xhi := convRange(offX, g.sw, g.w, g.ow)
		plane := x[c*g.h*g.w : (c+1)*g.h*g.w]
		row := cols[tap*pt : (tap+1)*pt]
		if g.contiguous() {
			g.im2colBlock(plane, row, oy0, oy1, offY, offX, xlo, xhi)
			continue
		}
		for oy := oy0; oy < oy1; oy++ {
			dst := row[(oy-oy0)*g.ow : (oy-oy0+1)*g.ow]
			iy := oy*g.sh + offY
			if iy < 0 || iy >= g.h {
				clear(dst)
				continue
			}
			for i := range dst[:xlo] {
				dst[i] = 0
			}
			for i := range dst[xhi:] {
				dst[xhi+i] = 0
			}
			if xlo >= xhi {
				continue
			}
			src := plane[iy*g.w : (iy+1)*g.w]
			if g.sw == 1 {
				d, s := dst[xlo:xhi], src[xlo+offX:xhi+offX]
				if len(d) >= 32 {
					copy(d, s)
					continue
				}
				s = s[:len(d)]
				for i := range d {
					d[i] = s[i]
				}
				continue
			}
			for ox := xlo; ox < xhi; ox++ {
				dst[ox] = src[ox*g.sw+offX]
			}
		}
	}
}

// col2im is the adjoint of im2col: it adds every tap of cols (output rows
// [oy0, oy1), channels [clo, chi)) back into dx [c, h, w].
func (g *convGeom) col2im(cols, dx []float32, oy0, oy1, clo, chi int) {
	pt := (oy1 - oy0) * g.ow
	khw := g.kh * g.kw
	for tap := clo * khw; tap < chi*khw; tap++ {
		c, u, v := tap/khw, tap/g.kw%g.kh, tap%g.kw
		offY, offX := u*g.dh-g.pt, v*g.dw-g.pl
		xlo, xhi := convRange(offX, g.sw, g.w, g.ow)
		if xlo >= xhi {
			continue
		}
		plane := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		row := cols[tap*pt : (tap+1)*pt]
		if g.contiguous() {
			g.col2imBlock(plane, row, oy0, oy1, offY, offX, xlo, xhi)
			continue
		}
		for oy := oy0; oy < oy1; oy++ {
			iy := oy*g.sh + offY
			if iy < 0 || iy >= g.h {
				continue
			}
			src := row[(oy-oy0)*g.ow : (oy-oy0+1)*g.ow]
			dst := plane[iy*g.w : (iy+1)*g.w]
			if g.sw == 1 {
				d := dst[xlo+offX : xhi+offX]
				for i, v := range src[xlo:xhi] {
					d[i] += v
				}
				continue
			}
			for ox := xlo; ox < xhi; ox++ {
				dst[ox*g.sw+offX] += src[ox]
			}
		}
	}
}

// contiguous reports whether consecutive output rows read consecutive
// input rows of the same width (stride 1, output as wide as the input), so
// that all the rows of one tap form a single block of the input, shifted:
// one copy per tap, the wrapped-around edge columns fixed after.
func (g *convGeom) contiguous() bool { return g.sh == 1 && g.sw == 1 && g.ow == g.w }

// tapRows returns the output rows in [oy0, oy1) whose tap row (offset
// offY) is inside the input.
func (g *convGeom) tapRows(oy0, oy1, offY int) (lo, hi int) {
	lo, hi = convRange(offY, 1, g.h, g.oh)
	lo = min(max(lo, oy0), oy1)
	return lo, max(min(hi, oy1), lo)
}

// zeroEdges clears columns [0, xlo) and [xhi, ow) of every row of d.
func (g *convGeom) zeroEdges(d []float32, xlo, xhi int) {
	if xlo <= 0 && xhi >= g.ow {
		return
	}
	for r := 0; r+g.ow <= len(d); r += g.ow {
		e := d[r : r+g.ow]
		for i := range e[:xlo] {
			e[i] = 0
		}
		for i := range e[xhi:] {
			e[xhi+i] = 0
		}
	}
}

// im2colBlock is im2col of one tap (offsets offY, offX; columns [xlo,
// xhi) inside the input) for a contiguous geometry.
func (g *convGeom) im2colBlock(plane, row []float32, oy0, oy1, offY, offX, xlo, xhi int) {
	ylo, yhi := g.tapRows(oy0, oy1, offY)
	clear(row[:(ylo-oy0)*g.ow])
	clear(row[(yhi-oy0)*g.ow:])
	d := row[(ylo-oy0)*g.ow : (yhi-oy0)*g.ow]
	start := (ylo+offY)*g.w + offX
	lo, hi := max(0, -start), min(len(d), len(plane)-start)
	if lo < hi {
		copy(d[lo:hi], plane[start+lo:start+hi])
	}
	g.zeroEdges(d, xlo, xhi)
}

// col2imBlock is col2im of one tap for a contiguous geometry. It clears
// the tap's edge columns in row (scratch) before adding the block.
func (g *convGeom) col2imBlock(plane, row []float32, oy0, oy1, offY, offX, xlo, xhi int) {
	ylo, yhi := g.tapRows(oy0, oy1, offY)
	d := row[(ylo-oy0)*g.ow : (yhi-oy0)*g.ow]
	g.zeroEdges(d, xlo, xhi)
	start := (ylo+offY)*g.w + offX
	lo, hi := max(0, -start), min(len(d), len(plane)-start)
	if lo >= hi {
		return
	}
	src, dst := d[lo:hi], plane[start+lo:start+hi]
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// convTileFloats bounds the unfolded input of one tile (per worker).
const convTileFloats = 1 << 18

// tileRows is how many output rows one im2col tile holds.
func (g *convGeom) tileRows() int {
	return max(1, min(g.oh, convTileFloats/max(1, g.taps()*g.ow)))
}

// convFill sets every element of row to v: with vector stores where the
// CPU has them (simd_amd64.s), otherwise a long row by doubling a filled
// prefix with copy (a vectorised memmove) rather than storing one element
// at a time.
func convFill(row []float32, v float32) {
	if len(row) >= 8 && fillVec(row, v) {
		return
	}
	if len(row) <= 64 {
		for i := range row {
			row[i] = v
		}
		return
	}
	n := 16
	for i := range row[:n] {
		row[i] = v
	}
	for n < len(row) {
		n += copy(row[n:], row[:n])
	}
}

// convScratch recycles the unfolding buffers of all window kernels, so
// that a network of many convolutions does not keep one per layer.
var convScratch sync.Pool

// convGet returns a scratch buffer of n floats (contents undefined).
func convGet(n int) *[]float32 {
	p, _ := convScratch.Get().(*[]float32)
	if p == nil {
		p = new([]float32)
	}
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

func convPut(p *[]float32) { convScratch.Put(p) }

// convMul multiplies sizes, reporting overflow past limit.
func convMul(limit int, xs ...int) (int, bool) {
	p := 1
	for _, x := range xs {
		if x < 0 {
			return 0, false
		}
		if x != 0 && p > limit/x {
			return 0, false
		}
		p *= x
	}
	return p, true
}

// convMaxElems bounds any one tensor or buffer a window kernel works on.
const convMaxElems = 1 << 40

// convKind selects the Conv algorithm.
type convKind uint8

const (
	convIm2col    convKind = iota
	convPointwise          // 1x1, stride 1, no padding: gemm on the input directly
	convDepthwise          // group == C: direct loop per plane
)

// convKernel is a Conv node.
type convKernel struct {
	geom    convGeom // per group: c = C/G
	kind    convKind
	n       int
	group   int
	m, mg   int // output channels, per group
	k       int // C/G * kH * kW
	p       int // OH * OW
	inPlane int // H * W
	hasBias bool
	// With stride 1 and pads no wider than the kernel, dX is computed as
	// the convolution of dy (geometry tgeom, tk taps) with the transposed,
	// flipped weights: im2col and a gemm accumulating straight into dX,
	// instead of a gemm and col2im's scattered additions.
	tgeom convGeom
	tk    int
	useT  bool
	wflip *[]float32

	// Operands of the call in progress, for the parallel parts.
	x, wt, bias, y []float32
	dy, dx, dw     []float32
	dwParts        dwPartials
	chunks         int
	fwdFn, bwdFn   func(lo, hi int)
	bandFn         func(lo, hi int)
	dwFwdFn        func(lo, hi int)
	dwBwdFn        func(lo, hi int)

	// The vector layouts of the depthwise forward pass and of its dX as a
	// convolution of dy (stride 1); nil: the scalar loops.
	dwp, dwpT *dwPlan
	// dwb lays out the planes of many samples for one tap run (forward).
	dwb       *dwBatch
	dwBatchFn func(lo, hi int)

	// direct is the inference path on the input in place (convdirect.go);
	// nil: im2col and Sgemm per sample.
	direct *convDirect
	// epi is the tail fused into the output (inference; fuse.go), res the
	// residual input of the call in progress.
	epi   epilogue
	res   []float32
	epiFn func(lo, hi int)
	train bool
}

// convResidual is the input index of a fused residual.
const convResidual = 3

func (k *convKernel) fuseResidual() (int, bool) {
	if k.train || k.epi.res || k.epi.act {
		return 0, false
	}
	k.epi.res = true
	return convResidual, true
}

func (k *convKernel) fuseActivation(op unaryOp, alpha, beta float32) bool {
	if k.train || k.epi.act {
		return false
	}
	k.epi.act, k.epi.op, k.epi.alpha, k.epi.beta = true, op, alpha, beta
	return true
}

// applyEpilogue runs the epilogue over output planes [lo, hi) of the
// batch (the paths that do not apply it as they write).
func (k *convKernel) applyEpilogue(lo, hi int) {
	y := k.y[lo*k.p : hi*k.p]
	var res []float32
	if k.res != nil {
		res = k.res[lo*k.p : hi*k.p]
	}
	k.epi.apply(y, res)
}

func buildConv(b *Build) (Kernel, error) {
	if len(b.In) < 2 || len(b.In) > 3 {
		return nil, fmt.Errorf("Conv takes 2 or 3 inputs (X, W, optional B), got %d", len(b.In))
	}
	if len(b.Out) != 1 {
		return nil, fmt.Errorf("Conv has 1 output, the node names %d", len(b.Out))
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
			return nil, fmt.Errorf("input %d is %v: Conv takes float32 tensors", i, m.DType)
		}
	}
	nsp, h, w, err := convSpatial(xs, "input X")
	if err != nil {
		return nil, err
	}
	if len(ws) != len(xs) {
		return nil, fmt.Errorf("weight W has shape %s: want rank %d like X %s ([M, C/group, kernel...])", ShapeString(ws), len(xs), ShapeString(xs))
	}
	n, c, m := xs[0], xs[1], ws[0]
	group64, err := b.Node.AttrInt("group", 1)
	if err != nil {
		return nil, err
	}
	if group64 < 1 || group64 > int64(max(c, 1)) {
		return nil, fmt.Errorf("attribute group = %d: must be in [1, C = %d]", group64, c)
	}
	group := int(group64)
	if c < 1 || m < 1 {
		return nil, fmt.Errorf("X %s and W %s: the channel counts must be positive", ShapeString(xs), ShapeString(ws))
	}
	if c%group != 0 || m%group != 0 {
		return nil, fmt.Errorf("group = %d must divide the input channels (%d) and the output channels (%d)", group, c, m)
	}
	if ws[1] != c/group {
		return nil, fmt.Errorf("weight W %s: dimension 1 must be C/group = %d/%d = %d (X is %s)", ShapeString(ws), c, group, c/group, ShapeString(xs))
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
	g, err := win.geom(nsp, c/group, h, w, false)
	if err != nil {
		return nil, fmt.Errorf("input X %s: %w", ShapeString(xs), err)
	}
	if _, ok := convMul(convMaxElems, n, m, g.oh, g.ow); !ok {
		return nil, fmt.Errorf("the output [%d,%d,%d,%d] is too large", n, m, g.oh, g.ow)
	}
	k, ok := convMul(convMaxElems, g.c, g.kh, g.kw)
	if !ok {
		return nil, fmt.Errorf("the kernel %s is too large", ShapeString(ws))
	}
	if _, ok := convMul(1<<31, k, g.ow); !ok {
		return nil, fmt.Errorf("one unfolded output row (%d taps x %d positions) is too large", k, g.ow)
	}
	kr := &convKernel{geom: g, n: n, group: group, m: m, mg: m / group, k: k, p: g.oh * g.ow, inPlane: h * w,
		hasBias: len(b.In) == 3 && b.In[2] != nil}
	switch {
	case group == c && c > 1:
		kr.kind = convDepthwise
	case g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && !g.hasPads:
		kr.kind = convPointwise
	}
	kr.fwdFn, kr.bwdFn, kr.bandFn = kr.forwardChunks, kr.backwardChunks, kr.forwardBands
	if top, left := (g.kh-1)*g.dh-g.pt, (g.kw-1)*g.dw-g.pl; kr.kind == convIm2col && g.sh == 1 && g.sw == 1 && top >= 0 && left >= 0 {
		tk := kr.mg * g.kh * g.kw
		if _, ok := convMul(1<<31, tk, w); ok {
			kr.tgeom = convGeom{c: kr.mg, h: g.oh, w: g.ow, oh: h, ow: w, kh: g.kh, kw: g.kw, sh: 1, sw: 1,
				dh: g.dh, dw: g.dw, pt: top, pl: left, spatial: nsp}
			kr.tk, kr.useT = tk, true
		}
	}
	kr.dwFwdFn, kr.dwBwdFn, kr.epiFn = kr.depthwiseForward, kr.depthwiseBackward, kr.applyEpilogue
	kr.train = b.Train
	if !b.Train {
		var w []float32
		frozen := b.Frozen && b.In[1].Const()
		if frozen {
			w = b.In[1].Value.F
		}
		kr.direct = kr.newConvDirect(w, frozen)
	}
	if kr.kind == convDepthwise {
		kr.dwp = g.newDWPlan()
		kr.dwb = newDWBatch(&kr.geom, kr.dwp, n)
		kr.dwBatchFn = kr.depthwiseBatched
		if gt, ok := g.inputGradGeom(); ok {
			kr.dwpT = gt.newDWPlan()
		}
	}
	b.Out[0].Shape = g.outShape(n, m)
	return kr, nil
}

// sgemmFunc is gemm.Sgemm or gemm.SgemmSerial.
type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func convGemm(serial bool) sgemmFunc {
	if serial {
		return gemm.SgemmSerial
	}
	return gemm.Sgemm
}

// chunkCount is how many parts the batch is split into: one per core.
func (k *convKernel) chunkCount() int {
	return max(1, min(runtime.GOMAXPROCS(0), k.n))
}

func (k *convKernel) chunk(c int) (lo, hi int) {
	return c * k.n / k.chunks, (c + 1) * k.n / k.chunks
}

func (k *convKernel) Forward(in, out []*graph.Tensor) {
	k.x, k.wt, k.y = in[0].F, in[1].F, out[0].F
	k.bias = nil
	if k.hasBias {
		k.bias = in[2].F
	}
	if len(in) > convResidual && in[convResidual] != nil {
		k.res = in[convResidual].F
	}
	defer k.release()
	if k.direct != nil {
		k.forwardDirect()
		return
	}
	if k.kind == convDepthwise && k.dwb != nil {
		parallel.For(k.m, max(1, (1<<15)/max(1, k.n*k.p*k.geom.kh*k.geom.kw)), k.dwBatchFn)
		return
	}
	if k.kind == convDepthwise {
		planes := k.n * k.m
		parallel.For(planes, max(1, (1<<15)/max(1, k.p*k.geom.kh*k.geom.kw)), k.dwFwdFn)
		return
	}
	if k.epi.res || k.epi.act {
		defer parallel.For(k.n*k.m, max(1, bcastGrain/max(1, k.p)), k.epiFn)
	}
	if k.kind == convPointwise && k.p == 1 && k.group == 1 && !k.train {
		k.forwardDense()
		return
	}
	if k.n == 1 {
		if k.chunks = k.rowParts(); k.chunks > 1 && k.flopsPerSample() < 1<<26 {
			parallel.For(k.chunks, 1, k.bandFn)
			return
		}
		k.forwardSample(0, false)
		return
	}
	k.chunks = k.chunkCount()
	parallel.For(k.chunks, 1, k.fwdFn)
}

// forwardDense computes a 1x1 convolution of 1x1 planes (the squeeze
// and excitation layers after a global pool) as the fully connected layer
// it is, one product for the whole batch: Y[N, M] = X[N, C] * W[M, C]^T
// (+ the bias in every row), rather than one product per sample whose
// single column fills a whole panel.
func (k *convKernel) forwardDense() {
	beta := float32(0)
	if k.hasBias {
		beta = 1
		for s := range k.n {
			copy(k.y[s*k.m:(s+1)*k.m], k.bias)
		}
	}
	gemm.Sgemm(false, true, k.n, k.m, k.k, 1, k.x, k.k, k.wt, k.k, beta, k.y, k.m)
}

func (k *convKernel) flopsPerSample() float64 {
	return 2 * float64(k.m) * float64(k.k) * float64(k.p)
}

// release drops the references to the call's tensors.
func (k *convKernel) release() {
	k.x, k.wt, k.bias, k.y, k.dy, k.dx, k.dw, k.res = nil, nil, nil, nil, nil, nil, nil, nil
	if k.direct != nil {
		k.direct.src = nil
	}
}

func (k *convKernel) forwardChunks(lo, hi int) {
	for c := lo; c < hi; c++ {
		s0, s1 := k.chunk(c)
		for s := s0; s < s1; s++ {
			k.forwardSample(s, true)
		}
	}
}

// forwardSample computes sample s; serial means the caller already runs
// one sample per core.
func (k *convKernel) forwardSample(s int, serial bool) {
	k.forwardRows(s, 0, k.geom.oh, serial)
}

// forwardRows computes output rows [oyA, oyB) of sample s.
func (k *convKernel) forwardRows(s, oyA, oyB int, serial bool) {
	g := &k.geom
	sg := convGemm(serial)
	cin := g.c * k.inPlane
	x := k.x[s*k.group*cin : (s+1)*k.group*cin]
	y := k.y[s*k.m*k.p : (s+1)*k.m*k.p]
	beta := float32(0)
	if k.hasBias {
		beta = 1
		for o := range k.m {
			convFill(y[o*k.p+oyA*g.ow:o*k.p+oyB*g.ow], k.bias[o])
		}
	}
	var buf *[]float32
	rows := g.tileRows()
	if k.kind == convIm2col {
		buf = convGet(k.k * rows * g.ow)
		defer convPut(buf)
	}
	for gi := range k.group {
		xg := x[gi*cin : (gi+1)*cin]
		wg := k.wt[gi*k.mg*k.k : (gi+1)*k.mg*k.k]
		yg := y[gi*k.mg*k.p : (gi+1)*k.mg*k.p]
		if k.kind == convPointwise { // output positions are input positions
			a, b := oyA*g.ow, oyB*g.ow
			sg(false, false, k.mg, b-a, g.c, 1, wg, k.k, xg[a:], k.p, beta, yg[a:], k.p)
			continue
		}
		for oy0 := oyA; oy0 < oyB; oy0 += rows {
			oy1 := min(oyB, oy0+rows)
			pt := (oy1 - oy0) * g.ow
			cols := (*buf)[:k.k*pt]
			k.unfold(xg, cols, oy0, oy1, serial)
			sg(false, false, k.mg, pt, k.k, 1, wg, k.k, cols, pt, beta, yg[oy0*g.ow:], k.p)
		}
	}
}

// convPartFlops is the least work worth a core of its own when a single
// sample is split by output rows.
const convPartFlops = 1 << 21

// rowParts is how many bands of output rows a single sample is split into
// (1: leave the parallelism to gemm, which splits only large products).
func (k *convKernel) rowParts() int {
	return max(1, min(runtime.GOMAXPROCS(0), k.geom.oh, int(k.flopsPerSample()/convPartFlops)))
}

// forwardBands computes bands [lo, hi) of output rows of sample 0.
func (k *convKernel) forwardBands(lo, hi int) {
	for b := lo; b < hi; b++ {
		k.forwardRows(0, b*k.geom.oh/k.chunks, (b+1)*k.geom.oh/k.chunks, true)
	}
}

// unfold runs im2col, on all cores when the caller is alone.
func (k *convKernel) unfold(x, cols []float32, oy0, oy1 int, serial bool) {
	g := &k.geom
	if serial || runtime.GOMAXPROCS(0) == 1 || k.k*(oy1-oy0)*g.ow < 1<<15 {
		g.im2col(x, cols, oy0, oy1, 0, k.k)
		return
	}
	parallel.For(k.k, 8, func(lo, hi int) { g.im2col(x, cols, oy0, oy1, lo, hi) })
}

// fold runs col2im, on all cores when the caller is alone.
func (k *convKernel) fold(cols, dx []float32, oy0, oy1 int, serial bool) {
	g := &k.geom
	if serial || runtime.GOMAXPROCS(0) == 1 || g.c < 2 || k.k*(oy1-oy0)*g.ow < 1<<15 {
		g.col2im(cols, dx, oy0, oy1, 0, g.c)
		return
	}
	parallel.For(g.c, 1, func(lo, hi int) { g.col2im(cols, dx, oy0, oy1, lo, hi) })
}

func (k *convKernel) Backward(in, out, dout, din []*graph.Tensor) {
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
				for _, v := range k.dy[(s*k.m+o)*k.p : (s*k.m+o+1)*k.p] {
					sum += v
				}
				db[o] += sum
			}
		}
	}
	if k.dx == nil && k.dw == nil {
		return
	}
	if k.kind == convDepthwise {
		parallel.For(k.group, max(1, (1<<14)/max(1, k.n*k.mg*k.p*k.geom.kh*k.geom.kw)), k.dwBwdFn)
		return
	}
	if k.useT && k.dx != nil {
		k.wflip = convGet(len(k.wt))
		defer func() { convPut(k.wflip); k.wflip = nil }()
		k.flipWeights(*k.wflip)
	}
	if k.n == 1 {
		k.backwardSample(0, k.dw, false)
		return
	}
	k.chunks = k.chunkCount()
	k.dwParts.prepare(k.chunks, k.dw)
	parallel.For(k.chunks, 1, k.bwdFn)
	k.dwParts.reduce(k.dw)
}

func (k *convKernel) backwardChunks(lo, hi int) {
	for c := lo; c < hi; c++ {
		dw := k.dwParts.of(c, k.dw)
		s0, s1 := k.chunk(c)
		for s := s0; s < s1; s++ {
			k.backwardSample(s, dw, true)
		}
	}
}

// flipWeights writes, per group, the [C/G, M/G*kH*kW] matrix
// Wt[c, m, u, v] = W[m, c, kH-1-u, kW-1-v].
func (k *convKernel) flipWeights(wf []float32) {
	g := &k.geom
	khw := g.kh * g.kw
	for gi := range k.group {
		for m := range k.mg {
			for c := range g.c {
				src := k.wt[((gi*k.mg+m)*g.c+c)*khw : ((gi*k.mg+m)*g.c+c+1)*khw]
				dst := wf[((gi*g.c+c)*k.mg+m)*khw : ((gi*g.c+c)*k.mg+m+1)*khw]
				for t, v := range src {
					dst[khw-1-t] = v
				}
			}
		}
	}
}

// backwardSample adds sample s's share of dW into dw (when non-nil) and
// its dX into k.dx (when non-nil).
func (k *convKernel) backwardSample(s int, dw []float32, serial bool) {
	g := &k.geom
	sg := convGemm(serial)
	cin := g.c * k.inPlane
	x := k.x[s*k.group*cin : (s+1)*k.group*cin]
	dy := k.dy[s*k.m*k.p : (s+1)*k.m*k.p]
	var dx []float32
	if k.dx != nil {
		dx = k.dx[s*k.group*cin : (s+1)*k.group*cin]
	}
	rows := g.tileRows()
	var buf, dbuf *[]float32
	if k.kind == convIm2col {
		if dw != nil {
			buf = convGet(k.k * rows * g.ow)
			defer convPut(buf)
		}
		if dx != nil && k.useT {
			dbuf = convGet(k.tk * k.tgeom.tileRows() * k.tgeom.ow)
			defer convPut(dbuf)
		} else if dx != nil {
			dbuf = convGet(k.k * rows * g.ow)
			defer convPut(dbuf)
		}
	}
	for gi := range k.group {
		xg := x[gi*cin : (gi+1)*cin]
		wg := k.wt[gi*k.mg*k.k : (gi+1)*k.mg*k.k]
		dyg := dy[gi*k.mg*k.p : (gi+1)*k.mg*k.p]
		if k.kind == convPointwise {
			if dw != nil {
				// dW_g[mg, c] += dY_g[mg, P] * X_g[c, P]^T
				sg(false, true, k.mg, g.c, k.p, 1, dyg, k.p, xg, k.p, 1, dw[gi*k.mg*k.k:], k.k)
			}
			if dx != nil {
				// dX_g[c, P] += W_g[mg, c]^T * dY_g[mg, P]
				sg(true, false, g.c, k.p, k.mg, 1, wg, k.k, dyg, k.p, 1, dx[gi*cin:], k.p)
			}
			continue
		}
		for oy0 := 0; oy0 < g.oh; oy0 += rows {
			oy1 := min(g.oh, oy0+rows)
			pt := (oy1 - oy0) * g.ow
			if dw != nil {
				cols := (*buf)[:k.k*pt]
				k.unfold(xg, cols, oy0, oy1, serial)
				// dW_g[mg, K] += dY_g[mg, tile] * cols[K, tile]^T
				sg(false, true, k.mg, k.k, pt, 1, dyg[oy0*g.ow:], k.p, cols, pt, 1, dw[gi*k.mg*k.k:], k.k)
			}
			if dx != nil && !k.useT {
				dcols := (*dbuf)[:k.k*pt]
				// dcols[K, tile] = W_g[mg, K]^T * dY_g[mg, tile]
				sg(true, false, k.k, pt, k.mg, 1, wg, k.k, dyg[oy0*g.ow:], k.p, 0, dcols, pt)
				k.fold(dcols, dx[gi*cin:(gi+1)*cin], oy0, oy1, serial)
			}
		}
		if dx != nil && k.useT {
			tg := &k.tgeom
			wf := (*k.wflip)[gi*g.c*k.tk : (gi+1)*g.c*k.tk]
			trows := tg.tileRows()
			for r0 := 0; r0 < tg.oh; r0 += trows {
				r1 := min(tg.oh, r0+trows)
				pt := (r1 - r0) * tg.ow
				cols := (*dbuf)[:k.tk*pt]
				if serial || runtime.GOMAXPROCS(0) == 1 || k.tk*pt < 1<<15 {
					tg.im2col(dyg, cols, r0, r1, 0, k.tk)
				} else {
					parallel.For(k.tk, 8, func(lo, hi int) { tg.im2col(dyg, cols, r0, r1, lo, hi) })
				}
				// dX_g[c, tile] += Wt_g[c, tk] * im2col(dY_g)[tk, tile]
				sg(false, false, g.c, pt, k.tk, 1, wf, k.tk, cols, pt, 1, dx[gi*cin+r0*tg.ow:], k.inPlane)
			}
		}
	}
}

// depthwiseForward computes output planes [lo, hi) of the batch (plane
// s*M + o) of a depthwise convolution: output channel o reads input
// channel o / (M/C) only. A padded input plane is first copied into a
// zero-bordered buffer, so that the loops never test bounds.
func (k *convKernel) depthwiseForward(lo, hi int) {
	g := &k.geom
	khw := g.kh * g.kw
	if p := k.dwp; p != nil {
		buf, out := convGet(p.size), convGet(roundUp(p.n, 32))
		defer convPut(buf)
		defer convPut(out)
		clear(*buf)
		last := -1
		for idx := lo; idx < hi; idx++ {
			s, o := idx/k.m, idx%k.m
			plane := s*k.group + o/k.mg
			if plane != last {
				g.dwPhases(p, k.x[plane*k.inPlane:(plane+1)*k.inPlane], *buf)
				last = plane
			}
			var bias float32
			if k.hasBias {
				bias = k.bias[o]
			}
			if k.epi.act && !k.epi.res {
				// The activation on the whole vector blocks of the grid.
				g.dwPlaneVecAct(p, *buf, k.wt[o*khw:(o+1)*khw], bias, *out, k.y[idx*k.p:(idx+1)*k.p], &k.epi)
				continue
			}
			g.dwPlaneVec(p, *buf, k.wt[o*khw:(o+1)*khw], bias, *out, k.y[idx*k.p:(idx+1)*k.p])
			k.planeEpilogue(idx)
		}
		return
	}
	var buf *[]float32
	if g.hasPads {
		buf = convGet(g.paddedH() * g.paddedW())
		defer convPut(buf)
	}
	for idx := lo; idx < hi; idx++ {
		s, o := idx/k.m, idx%k.m
		ci := o / k.mg
		x := k.x[(s*k.group+ci)*k.inPlane : (s*k.group+ci+1)*k.inPlane]
		y := k.y[idx*k.p : (idx+1)*k.p]
		var bias float32
		if k.hasBias {
			bias = k.bias[o]
		}
		src, ld := x, g.w
		if buf != nil && (o%k.mg == 0 || idx == lo) {
			src, ld = g.padPlane(x, *buf), g.paddedW()
		} else if buf != nil {
			src, ld = *buf, g.paddedW() // same input plane as the previous output
		}
		g.depthwisePlane(src, ld, k.wt[o*khw:(o+1)*khw], bias, y)
		k.planeEpilogue(idx)
	}
}

// planeEpilogue applies the epilogue to output plane idx (batch-wide
// index), just written.
func (k *convKernel) planeEpilogue(idx int) {
	if k.epi.res || k.epi.act {
		k.applyEpilogue(idx, idx+1)
	}
}

// dwPlan lays out a depthwise plane for the vector tap kernel dwTaps.
// The zero-padded input plane is split into sH*sW phase planes,
//
//	P_ab[r][c] = padded[r*sH + a][c*sW + b],
//
// so that tap (u, v) of output (i, j) reads P_ab[i + u*dH/sH][j + v*dW/sW]
// with a = u*dH mod sH and b = v*dW mod sW: for every stride and
// dilation, a tap reads a shifted copy of one phase plane. Laid out with
// the phase width l (ow plus the columns the taps reach beyond it), output
// (i, j) is element p = i*l + j of a row-major [oh, l] array, and tap t
// reads the phase buffer at p + offs[t]: the whole plane is one run of
// vectors per tap, the l - ow extra columns of each row computed and
// dropped. (With stride 1 there is one phase, the padded plane itself.)
type dwPlan struct {
	l, rows int    // width and rows of a phase plane
	n       int    // outputs computed: oh*l rounded up to whole vectors
	phase   int    // floats from one phase plane to the next
	size    int    // floats of the phase buffer
	offs    []int  // per tap u*kW+v: its start in the phase buffer
	used    []bool // per phase a*sW+b: whether a tap reads it
	copies  []dwCopy
}

// dwPlanMax bounds the phase buffer (in floats) of the vector path.
const dwPlanMax = 1 << 26

// newDWPlan returns the vector layout of a depthwise geometry, or nil
// when there is no vector kernel or when the layout would be mostly
// dropped columns or too large (the scalar loops then).
func (g *convGeom) newDWPlan() *dwPlan { return g.dwPlanFor(dwVec) }

// dwPlanFor is newDWPlan for vectors of vec floats (0: none).
func (g *convGeom) dwPlanFor(vec int) *dwPlan {
	if vec <= 0 {
		return nil
	}
	du, dv := (g.kh-1)*g.dh/g.sh, (g.kw-1)*g.dw/g.sw
	l := g.ow + dv
	if l > 2*g.ow+vec {
		return nil
	}
	cells, ok := convMul(dwPlanMax, g.oh+du+1, l+vec, g.sh, g.sw)
	if !ok || cells > dwPlanMax {
		return nil
	}
	n := (g.oh*l + vec - 1) / vec * vec
	p := &dwPlan{l: l, rows: g.oh + du, n: n, phase: n + du*l + dv, used: make([]bool, g.sh*g.sw)}
	p.size = g.sh * g.sw * p.phase
	for u := range g.kh {
		for v := range g.kw {
			ry, rx := u*g.dh, v*g.dw
			ph := (ry%g.sh)*g.sw + rx%g.sw
			p.used[ph] = true
			p.offs = append(p.offs, ph*p.phase+ry/g.sh*l+rx/g.sw)
		}
	}
	p.copies = g.dwCopies(p)
	return p
}

// dwPhases writes the phase planes (those a tap reads) of the input plane
// x [h, w] into buf. It writes only the elements that come from x: buf
// must have been cleared once, and the padding stays zero from plane to
// plane. The floats after each phase's rows*l are read by dropped outputs
// only.
func (g *convGeom) dwPhases(p *dwPlan, x, buf []float32) { g.dwPhasesAt(p, x, buf, p.phase) }

// dwPhasesAt is dwPhases with phase planes stride floats apart in buf.
func (g *convGeom) dwPhasesAt(p *dwPlan, x, buf []float32, stride int) {
	lds := g.sh * g.w
	for _, c := range p.copies {
		d := buf[c.phase*stride+c.dst:]
		switch g.sw {
		case 1:
			copyRows(d, p.l, x[c.src:], lds, c.rows, c.n)
		case 2:
			gather2Rows(d, p.l, x[c.src:], lds, c.rows, c.n)
		default:
			for r := range c.rows {
				dr := d[r*p.l : r*p.l+c.n]
				sr := x[c.src+r*lds:]
				sr = sr[:(c.n-1)*g.sw+1]
				for i := range dr {
					dr[i] = sr[i*g.sw]
				}
			}
		}
	}
}

// dwCopy is one block copied into the phase planes: rows rows of n
// elements, from x at src (rows sH*W apart, elements sW apart) to phase
// plane phase at dst (rows l apart).
type dwCopy struct{ phase, dst, src, rows, n int }

// dwCopies lists the blocks that fill the phase planes the taps read.
func (g *convGeom) dwCopies(p *dwPlan) []dwCopy {
	var cs []dwCopy
	for a := range g.sh {
		// Phase rows [rlo, rhi) read input rows r*sH + a - pT.
		rlo, rhi := convRange(a-g.pt, g.sh, g.h, p.rows)
		for b := range g.sw {
			if !p.used[a*g.sw+b] || rlo >= rhi {
				continue
			}
			off := b - g.pl
			clo, chi := convRange(off, g.sw, g.w, p.l)
			if clo >= chi {
				continue
			}
			cs = append(cs, dwCopy{phase: a*g.sw + b, dst: rlo*p.l + clo, src: (rlo*g.sh+a-g.pt)*g.w + clo*g.sw + off,
				rows: rhi - rlo, n: chi - clo})
		}
	}
	return cs
}

// dwPlaneVec computes one output plane y [oh, ow] = bias + the taps w of
// the phase planes in buf, through out (p.n floats of scratch).
func (g *convGeom) dwPlaneVec(p *dwPlan, buf, w []float32, bias float32, out, y []float32) {
	out = out[:p.n]
	dwTaps(out, buf, p.offs, w, bias)
	copyRows(y, g.ow, out, p.l, g.oh, g.ow)
}

// dwPlaneVecAct is dwPlaneVec with the activation of e applied to the
// grid before the copy (out holds roundUp(p.n, 32) floats).
func (g *convGeom) dwPlaneVecAct(p *dwPlan, buf, w []float32, bias float32, out, y []float32, e *epilogue) {
	grid := out[:p.n]
	dwTaps(grid, buf, p.offs, w, bias)
	whole := out[:roundUp(p.n, 32)]
	unaryApply(e.op, e.alpha, e.beta, whole, whole)
	copyRows(y, g.ow, grid, p.l, g.oh, g.ow)
}

// copyRowsGo sets dst[r*ldd+j] = src[r*lds+j] for r < rows and j < w.
func copyRowsGo(dst []float32, ldd int, src []float32, lds int, rows, w int) {
	for r := range rows {
		d, s := dst[r*ldd:r*ldd+w], src[r*lds:r*lds+w]
		for j := range d {
			d[j] = s[j]
		}
	}
}

// gather2RowsGo sets dst[r*ldd+i] = src[r*lds+2i] for r < rows and i < n.
func gather2RowsGo(dst []float32, ldd int, src []float32, lds int, rows, n int) {
	for r := range rows {
		d, s := dst[r*ldd:r*ldd+n], src[r*lds:r*lds+2*n-1]
		for i := range d {
			d[i] = s[2*i]
		}
	}
}

// dwTapsGo is dwTaps in Go: dst[p] = bias + sum_t w[t]*src[p+offs[t]],
// the taps added in order (a product and a sum, each rounded).
func dwTapsGo(dst, src []float32, offs []int, w []float32, bias float32) {
	w = w[:len(offs)]
	for p := range dst {
		dst[p] = bias
	}
	for t, o := range offs {
		s, wt := src[o:o+len(dst)], w[t]
		for p := range dst {
			dst[p] += wt * s[p]
		}
	}
}

// paddedH and paddedW are the extent the windows read, from the top left
// corner of the padding.
func (g *convGeom) paddedH() int { return (g.oh-1)*g.sh + (g.kh-1)*g.dh + 1 }
func (g *convGeom) paddedW() int { return (g.ow-1)*g.sw + (g.kw-1)*g.dw + 1 }

// padPlane copies the plane x [h, w] into buf as [paddedH, paddedW] with
// its top left corner at (pT, pL) and zeros around it, and returns it.
func (g *convGeom) padPlane(x, buf []float32) []float32 {
	hp, wp := g.paddedH(), g.paddedW()
	buf = buf[:hp*wp]
	top, left := min(g.pt, hp), min(g.pl, wp)
	rows := max(0, min(g.h, hp-top))
	cols := max(0, min(g.w, wp-left))
	clear(buf[:top*wp])
	for r := range rows {
		row := buf[(top+r)*wp : (top+r+1)*wp]
		clear(row[:left])
		copy(row[left:left+cols], x[r*g.w:r*g.w+cols])
		clear(row[left+cols:])
	}
	clear(buf[(top+rows)*wp:])
	return buf
}

// depthwisePlane computes y[i,j] = bias + sum_{u,v} w[u,v] * src[(i*sH+u*dH)*ld + j*sW+v*dW]
// for one plane whose every tap is inside src (the padding already
// applied). 3x3 kernels without dilation take all nine taps in one pass;
// others go kernel row by kernel row.
func (g *convGeom) depthwisePlane(src []float32, ld int, w []float32, bias float32, y []float32) {
	if g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 {
		w00, w01, w02 := w[0], w[1], w[2]
		w10, w11, w12 := w[3], w[4], w[5]
		w20, w21, w22 := w[6], w[7], w[8]
		ow := g.ow
		if g.sw == 1 {
			for oy := range g.oh {
				yr := y[oy*ow : (oy+1)*ow]
				base := oy * g.sh * ld
				r0 := src[base : base+ow+2]
				r1 := src[base+ld : base+ld+ow+2]
				r2 := src[base+2*ld : base+2*ld+ow+2]
				for i := range yr {
					a, b, c := r0[i:i+3:i+3], r1[i:i+3:i+3], r2[i:i+3:i+3]
					yr[i] = bias + w00*a[0] + w01*a[1] + w02*a[2] +
						w10*b[0] + w11*b[1] + w12*b[2] +
						w20*c[0] + w21*c[1] + w22*c[2]
				}
			}
			return
		}
		sw := g.sw
		for oy := range g.oh {
			yr := y[oy*ow : (oy+1)*ow]
			base := oy * g.sh * ld
			r0 := src[base : base+(ow-1)*sw+3]
			r1 := src[base+ld : base+ld+(ow-1)*sw+3]
			r2 := src[base+2*ld : base+2*ld+(ow-1)*sw+3]
			for i := range yr {
				j := i * sw
				a, b, c := r0[j:j+3:j+3], r1[j:j+3:j+3], r2[j:j+3:j+3]
				yr[i] = bias + w00*a[0] + w01*a[1] + w02*a[2] +
					w10*b[0] + w11*b[1] + w12*b[2] +
					w20*c[0] + w21*c[1] + w22*c[2]
			}
		}
		return
	}
	for oy := range g.oh {
		yr := y[oy*g.ow : (oy+1)*g.ow]
		convFill(yr, bias)
		for u := range g.kh {
			row := src[(oy*g.sh+u*g.dh)*ld:]
			g.depthwiseRow(yr, row, w[u*g.kw:(u+1)*g.kw])
		}
	}
}

// depthwiseRow adds one kernel row's taps: yr[i] += sum_v wr[v] * row[i*sW + v*dW].
func (g *convGeom) depthwiseRow(yr, row, wr []float32) {
	n := len(yr)
	switch {
	case len(wr) == 5 && g.dw == 1 && g.sw == 1:
		w0, w1, w2, w3, w4 := wr[0], wr[1], wr[2], wr[3], wr[4]
		row = row[:n+4]
		for i := range yr {
			t := row[i : i+5 : i+5]
			yr[i] += w0*t[0] + w1*t[1] + w2*t[2] + w3*t[3] + w4*t[4]
		}
	case len(wr) == 5 && g.dw == 1:
		w0, w1, w2, w3, w4 := wr[0], wr[1], wr[2], wr[3], wr[4]
		sw := g.sw
		row = row[:(n-1)*sw+5]
		for i := range yr {
			j := i * sw
			t := row[j : j+5 : j+5]
			yr[i] += w0*t[0] + w1*t[1] + w2*t[2] + w3*t[3] + w4*t[4]
		}
	case len(wr) == 3 && g.dw == 1:
		w0, w1, w2 := wr[0], wr[1], wr[2]
		sw := g.sw
		row = row[:(n-1)*sw+3]
		for i := range yr {
			j := i * sw
			t := row[j : j+3 : j+3]
			yr[i] += w0*t[0] + w1*t[1] + w2*t[2]
		}
	default:
		for i := range yr {
			j := i * g.sw
			var acc float32
			for v, wv := range wr {
				acc += wv * row[j+v*g.dw]
			}
			yr[i] += acc
		}
	}
}

// depthwiseBackward accumulates dW and dX of a depthwise convolution for
// input channels [lo, hi) (each with its M/C output channels) over the
// whole batch: dW[o,u,v] += sum dy[o,i,j] * x[c,tap] and
// dx[c,tap] += W[o,u,v] * dy[o,i,j]. dW reads the zero-bordered input
// plane; with stride 1, dX is the depthwise convolution of the
// zero-bordered dy with the flipped kernel, computed like the forward pass.
func (k *convKernel) depthwiseBackward(lo, hi int) {
	g := &k.geom
	khw := g.kh * g.kw
	var xbuf, dbuf, tmp, flip *[]float32
	if k.dw != nil && g.hasPads {
		xbuf = convGet(g.paddedH() * g.paddedW())
		defer convPut(xbuf)
	}
	gt, gather := g.inputGradGeom()
	if k.dx != nil && !gather {
		dbuf = convGet(g.paddedH() * g.paddedW())
		defer convPut(dbuf)
	}
	pt := k.dwpT
	if k.dx != nil && gather {
		if pt != nil {
			dbuf = convGet(pt.size)
			clear(*dbuf) // the phase plane's padding, zero for every plane
			tmp = convGet(pt.n)
		} else {
			dbuf = convGet(gt.paddedH() * gt.paddedW())
			tmp = convGet(k.inPlane)
		}
		flip = convGet(khw)
		defer convPut(dbuf)
		defer convPut(tmp)
		defer convPut(flip)
	}
	for ci := lo; ci < hi; ci++ {
		for s := range k.n {
			plane := (s*k.group + ci) * k.inPlane
			x := k.x[plane : plane+k.inPlane]
			xp, ld := x, g.w
			if xbuf != nil {
				xp, ld = g.padPlane(x, *xbuf), g.paddedW()
			}
			for o := ci * k.mg; o < (ci+1)*k.mg; o++ {
				dy := k.dy[(s*k.m+o)*k.p : (s*k.m+o+1)*k.p]
				w := k.wt[o*khw : (o+1)*khw]
				if k.dw != nil {
					g.depthwiseWeightGrad(xp, ld, dy, k.dw[o*khw:(o+1)*khw])
				}
				if k.dx == nil {
					continue
				}
				dx := k.dx[plane : plane+k.inPlane]
				if !gather {
					g.depthwiseInputScatter(w, dy, dx, *dbuf)
					continue
				}
				f := *flip
				for t := range w {
					f[khw-1-t] = w[t]
				}
				if pt != nil {
					out := (*tmp)[:pt.n]
					gt.dwPhases(pt, dy, *dbuf)
					dwTaps(out, *dbuf, pt.offs, f, 0)
					for r := range gt.oh {
						d, o := dx[r*gt.ow:(r+1)*gt.ow], out[r*pt.l:r*pt.l+gt.ow]
						for i, v := range o {
							d[i] += v
						}
					}
					continue
				}
				dyp := gt.padPlane(dy, *dbuf)
				t := *tmp
				gt.depthwisePlane(dyp, gt.paddedW(), f, 0, t)
				for i, v := range t {
					dx[i] += v
				}
			}
		}
	}
}

// depthwiseInputScatter adds dx[tap] += w[u,v] * dy[i,j] for one plane,
// scattering into the zero-bordered buffer buf first so that no tap needs
// a bounds test, then adding buf's interior into dx.
func (g *convGeom) depthwiseInputScatter(w, dy, dx, buf []float32) {
	hp, wp := g.paddedH(), g.paddedW()
	buf = buf[:hp*wp]
	clear(buf)
	for oy := range g.oh {
		dyr := dy[oy*g.ow : (oy+1)*g.ow]
		for u := range g.kh {
			row := buf[(oy*g.sh+u*g.dh)*wp:]
			wr := w[u*g.kw : (u+1)*g.kw]
			if len(wr) == 3 && g.dw == 1 {
				w0, w1, w2 := wr[0], wr[1], wr[2]
				row = row[:(len(dyr)-1)*g.sw+3]
				for i, gv := range dyr {
					j := i * g.sw
					t := row[j : j+3 : j+3]
					t[0] += w0 * gv
					t[1] += w1 * gv
					t[2] += w2 * gv
				}
				continue
			}
			for v, wv := range wr {
				for i, gv := range dyr {
					row[i*g.sw+v*g.dw] += wv * gv
				}
			}
		}
	}
	top, left := min(g.pt, hp), min(g.pl, wp)
	rows := max(0, min(g.h, hp-top))
	cols := max(0, min(g.w, wp-left))
	for r := range rows {
		src := buf[(top+r)*wp+left : (top+r)*wp+left+cols]
		dst := dx[r*g.w : r*g.w+cols]
		for i, v := range src {
			dst[i] += v
		}
	}
}

// inputGradGeom returns, for a stride-1 geometry, the geometry of dX as a
// depthwise convolution of dy (with the flipped kernel); ok is false when
// dX must be scattered instead (strides, or pads wider than the kernel).
func (g *convGeom) inputGradGeom() (gt convGeom, ok bool) {
	top, left := (g.kh-1)*g.dh-g.pt, (g.kw-1)*g.dw-g.pl
	if g.sh != 1 || g.sw != 1 || top < 0 || left < 0 {
		return gt, false
	}
	gt = convGeom{c: 1, h: g.oh, w: g.ow, oh: g.h, ow: g.w, kh: g.kh, kw: g.kw, sh: 1, sw: 1,
		dh: g.dh, dw: g.dw, pt: top, pl: left, spatial: g.spatial, hasPads: true}
	return gt, true
}

// depthwiseWeightGrad adds dw[u,v] += sum_{i,j} dy[i,j] * xp[(i*sH+u*dH)*ld + j*sW+v*dW]
// for one plane (xp zero-bordered, or unpadded).
func (g *convGeom) depthwiseWeightGrad(xp []float32, ld int, dy, dw []float32) {
	ow := g.ow
	for u := range g.kh {
		wr := dw[u*g.kw : (u+1)*g.kw]
		if g.kw == 3 && g.dw == 1 && g.sw == 1 {
			var a0, a1, a2 float32
			for oy := range g.oh {
				base := (oy*g.sh + u*g.dh) * ld
				r := xp[base : base+ow+2]
				dyr := dy[oy*ow : (oy+1)*ow]
				a, b, c := r[0:len(dyr)], r[1:1+len(dyr)], r[2:2+len(dyr)]
				for i, gv := range dyr {
					a0 += gv * a[i]
					a1 += gv * b[i]
					a2 += gv * c[i]
				}
			}
			wr[0] += a0
			wr[1] += a1
			wr[2] += a2
			continue
		}
		for v := range g.kw {
			var acc float32
			for oy := range g.oh {
				base := (oy*g.sh+u*g.dh)*ld + v*g.dw
				dyr := dy[oy*ow : (oy+1)*ow]
				if g.sw == 1 {
					r := xp[base : base+len(dyr)]
					for i, gv := range dyr {
						acc += gv * r[i]
					}
					continue
				}
				r := xp[base : base+(ow-1)*g.sw+1]
				for i, gv := range dyr {
					acc += gv * r[i*g.sw]
				}
			}
			wr[v] += acc
		}
	}
}

// dwPartials gives each parallel chunk of a backward pass but the first
// its own weight-gradient buffer (chunk 0 adds into dW itself), and sums
// them into dW at the end, so that chunks never write the same memory.
type dwPartials struct{ parts []*[]float32 }

// prepare makes the buffers of chunks chunks; nothing when dW is not wanted.
func (d *dwPartials) prepare(chunks int, dw []float32) {
	d.parts = d.parts[:0]
	if dw == nil {
		return
	}
	for range chunks - 1 {
		p := convGet(len(dw))
		clear(*p)
		d.parts = append(d.parts, p)
	}
}

// of is the buffer chunk c adds its dW into.
func (d *dwPartials) of(c int, dw []float32) []float32 {
	if dw == nil || c == 0 {
		return dw
	}
	return *d.parts[c-1]
}

// reduce adds the chunks' buffers into dW and returns them to the pool.
func (d *dwPartials) reduce(dw []float32) {
	for _, p := range d.parts {
		for i, v := range *p {
			dw[i] += v
		}
		convPut(p)
	}
	d.parts = d.parts[:0]
}
