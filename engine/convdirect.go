package engine

// The inference path of a Conv with one group (not depthwise): gemm on
// the input planes in place, no unfolding.
//
// im2col writes the unfolded input cols [C*kH*kW, OH*OW], which gemm then
// packs again into column panels: two copies of a matrix kH*kW times the
// input, and with few output channels (16 to 64 in small networks) each
// copied element meets only that many weights, so the copies cost as
// much as the multiply-adds. Here the input is instead laid out once in
// the phase planes of dwPlan (the zero-padded plane split by stride
// phase, each row l = OW + (kW-1)*dW/sW long), where every tap (c, u, v)
// reads the plane of channel c shifted by a constant: row p = (c, u, v)
// of the unfolded matrix, as computed on the [OH, l] output grid, is the
// run that starts at offs[p] = c*size + (tap offset). The gemm's
// indirect micro-kernel reads those runs in place (gemm.MulIndirect),
// the weights having been packed once (gemm.PackA). A 1x1 convolution
// with stride 1 and no padding reads X itself (offs[c] = c*H*W).
//
// The grid's l - OW extra columns of each row, and the columns rounding
// a sample up to whole nr-wide panels, are computed and dropped: the
// output pass copies the kept ones into Y, adding a residual and applying
// an activation when the compiler fused them into the Conv (epilogue).
// Work is split into (sample, block of panels) units, spread over the
// cores at any batch size.

import (
	"runtime"

	"github.com/deepcompress/deepcompress/gemm"
	"github.com/deepcompress/deepcompress/internal/parallel"
)

// convStageFloats bounds the staged planes of one Conv (per call, in
// batches of samples).
const convStageFloats = 1 << 20

// A 1x1 convolution of planes under convGroupPlane positions puts the
// planes of several samples side by side, up to convGroupCols columns.
const (
	convGroupPlane = 64
	convGroupCols  = 256
)

// convDirectPartFlops is the least work (multiply-adds x 2) worth handing
// to another core: waking one costs microseconds.
const convDirectPartFlops = 1 << 19

// convDirect is the layout of the direct path of one convKernel.
type convDirect struct {
	pa      *gemm.PackedA // the weights, packed (nil: packed per call)
	nr      int
	plan    *dwPlan // the phase planes; nil: a 1x1 convolution on X in place
	l       int     // row length of the output grid
	plane   int     // floats from one channel's staged planes (or X plane) to the next
	cols    int     // grid columns per sample, whole panels
	offs    []int   // per unfolded row: its run's offset in a sample
	samples int     // samples staged at once
	stage   []float32
	tail    []float32 // the last samples of X, with room for the panels' overrun (1x1)
	tailN   int       // how many samples tail holds

	// The call in progress.
	src          []float32
	s0, blocks   int // first sample of the batch in progress; blocks per sample
	nb           int // panels per block
	stageFn      func(lo, hi int)
	unitFn       func(lo, hi int)
	sampleFn     func(lo, hi int)
	groupFn      func(lo, hi int)
	groupN       int           // samples side by side (1x1 of small planes); 0: not grouped
	stages       stagePool     // the workers' one-sample stages, padding zero
	pa1          *gemm.PackedA // the weights of this call
	sampleFloats int           // floats of one sample in src
}

// newConvDirect returns the direct layout of a single-group Conv, or nil
// when the grid would waste too much (or there is no room for it). The
// weights are packed now when frozen (constant for the program's life).
func (k *convKernel) newConvDirect(w []float32, frozen bool) *convDirect {
	g := &k.geom
	if k.group != 1 || k.kind == convDepthwise || k.kind == convPointwise && k.p == 1 {
		return nil // see forwardDense for the 1x1 planes
	}
	var pa *gemm.PackedA
	if frozen {
		pa = gemm.PackA(false, k.m, k.k, 1, w, k.k)
	} else {
		pa = gemm.PackA(false, 1, 1, 1, []float32{0}, 1) // for the panel width only
	}
	d := &convDirect{nr: pa.PanelWidth()}
	if frozen {
		d.pa = pa
	}
	khw := g.kh * g.kw
	if k.kind == convPointwise && k.p < convGroupPlane && k.p%d.nr != 0 && k.n > 1 {
		// Small planes: the planes of groupN samples side by side, so that
		// panels do not end with a sample's plane.
		d.groupN = min(k.n, max(1, convGroupCols/k.p))
		d.l, d.plane = g.ow, k.inPlane
		row := d.groupN * k.p
		d.cols = roundUp(row, d.nr)
		d.offs = make([]int, k.k)
		for c := range d.offs {
			d.offs[c] = c * row
		}
		d.sampleFloats = g.c*row + d.nr // room for the last row's overrun
		return d
	}
	if k.kind == convPointwise {
		d.l, d.plane = g.ow, k.inPlane
		d.cols = roundUp(k.p, d.nr)
		d.offs = make([]int, k.k)
		for c := range d.offs {
			d.offs[c] = c * k.inPlane
		}
		if over := d.cols - k.p; over > 0 {
			// The runs of the last channel of a sample reach over cols - H*W
			// floats past it: the samples whose overrun would leave X are
			// read from a copy with room after it.
			sample := g.c * k.inPlane
			d.tailN = min(k.n, (over+sample-1)/sample)
			d.tail = make([]float32, d.tailN*sample+over)
		}
		return d
	}
	p := g.dwPlanFor(d.nr)
	if p == nil || p.n > 2*k.p+d.nr {
		return nil
	}
	d.plan, d.l, d.plane, d.cols = p, p.l, p.size, p.n
	perSample, ok := convMul(convMaxElems, g.c, p.size)
	if !ok || perSample > convStageFloats*4 {
		return nil
	}
	d.samples = max(1, min(k.n, convStageFloats/perSample))
	d.offs = make([]int, 0, k.k)
	for c := range g.c {
		for t := range khw {
			d.offs = append(d.offs, c*p.size+p.offs[t])
		}
	}
	return d
}

func roundUp(x, unit int) int { return (x + unit - 1) / unit * unit }

// forwardDirect computes the whole batch on the direct path. When the
// batch alone gives every core several samples, each sample is one unit
// of work that stages its own planes (in a buffer of the worker's, still
// in cache when the gemm reads it); otherwise the planes of a group of
// samples are staged first, and blocks of panels are the units.
func (k *convKernel) forwardDirect() {
	d := k.direct
	if k.n == 0 {
		return
	}
	d.pa1 = d.pa
	if d.pa1 == nil {
		d.pa1 = gemm.PackA(false, k.m, k.k, 1, k.wt, k.k)
	}
	panels := d.cols / d.nr
	nbCache := max(1, (1<<14)/(d.pa1.RowsPadded()*d.nr))
	if d.stageFn == nil {
		d.stageFn, d.unitFn, d.sampleFn, d.groupFn = k.stagePlanes, k.directUnits, k.directSamples, k.directGroups
	}
	procs := runtime.GOMAXPROCS(0)
	if d.groupN > 0 {
		d.nb = d.cols / d.nr
		groups := (k.n + d.groupN - 1) / d.groupN
		parallel.For(groups, max(1, convDirectPartFlops/max(1, 2*k.m*k.k*d.cols)), d.groupFn)
		return
	}
	if d.plan == nil {
		d.src, d.s0, d.sampleFloats = k.x, 0, k.group*k.geom.c*k.inPlane
		if d.tail != nil {
			copy(d.tail, k.x[(k.n-d.tailN)*d.sampleFloats:k.n*d.sampleFloats])
		}
		k.directBatch(0, k.n, panels, nbCache)
		return
	}
	d.sampleFloats = k.geom.c * d.plane
	if panels <= nbCache && k.n >= 2*procs {
		d.nb, d.blocks = panels, 1
		sampleFlops := 2 * k.m * k.k * d.cols
		parallel.For(k.n, max(1, convDirectPartFlops/max(1, sampleFlops)), d.sampleFn)
		return
	}
	if len(d.stage) == 0 {
		d.stage = make([]float32, d.samples*k.geom.c*d.plane) // padding zero once
	}
	d.src = d.stage
	for s0 := 0; s0 < k.n; s0 += d.samples {
		s1 := min(k.n, s0+d.samples)
		d.s0 = s0
		parallel.For((s1-s0)*k.geom.c, max(1, (1<<14)/max(1, k.inPlane)), d.stageFn)
		k.directBatch(s0, s1, panels, nbCache)
	}
}

// directBatch runs the units of samples [s0, s1).
func (k *convKernel) directBatch(s0, s1, panels, nbCache int) {
	d := k.direct
	procs := runtime.GOMAXPROCS(0)
	samples := s1 - s0
	blocks := max((panels+nbCache-1)/nbCache, min(panels, (4*procs+samples-1)/samples))
	d.nb = (panels + blocks - 1) / blocks
	d.blocks = (panels + d.nb - 1) / d.nb
	d.s0 = s0
	unitFlops := 2 * k.m * k.k * d.nb * d.nr
	parallel.For(samples*d.blocks, max(1, convDirectPartFlops/max(1, unitFlops)), d.unitFn)
}

// stagePlanes writes the phase planes of (sample, channel) pairs [lo, hi)
// of the batch in progress into the stage.
func (k *convKernel) stagePlanes(lo, hi int) {
	d, g := k.direct, &k.geom
	for i := lo; i < hi; i++ {
		s := d.s0 + i/g.c
		x := k.x[(s*g.c+i%g.c)*k.inPlane : (s*g.c+i%g.c+1)*k.inPlane]
		g.dwPhases(d.plan, x, d.stage[i*d.plane:(i+1)*d.plane])
	}
}

// directSamples computes samples [lo, hi), each staged into a buffer of
// this worker's and computed as one block.
func (k *convKernel) directSamples(lo, hi int) {
	d, g := k.direct, &k.geom
	stage := d.stages.get(d.sampleFloats)
	defer d.stages.put(stage)
	c, ldc, put := k.directScratch()
	defer put()
	for s := lo; s < hi; s++ {
		for ci := range g.c {
			x := k.x[(s*g.c+ci)*k.inPlane : (s*g.c+ci+1)*k.inPlane]
			g.dwPhases(d.plan, x, stage[ci*d.plane:(ci+1)*d.plane])
		}
		k.directUnit(c, ldc, s, 0, stage, 0)
	}
}

// directGroups computes groups [lo, hi) of groupN samples of a grouped
// 1x1 convolution: their planes are copied side by side (channel c's row
// holds the samples' planes of channel c), multiplied as one block, and
// each sample's columns copied out.
func (k *convKernel) directGroups(lo, hi int) {
	d, g := k.direct, &k.geom
	stage := d.stages.get(d.sampleFloats)
	defer d.stages.put(stage)
	c, ldc, put := k.directScratch()
	defer put()
	row := d.groupN * k.p
	for grp := lo; grp < hi; grp++ {
		s0 := grp * d.groupN
		s1 := min(k.n, s0+d.groupN)
		copyRows(stage, row, k.x[s0*g.c*k.p:], k.p, g.c, k.p) // sample s0, then the others
		for s := s0 + 1; s < s1; s++ {
			copyRows(stage[(s-s0)*k.p:], row, k.x[s*g.c*k.p:], k.p, g.c, k.p)
		}
		panels := (roundUp((s1-s0)*k.p, d.nr)) / d.nr
		beta := float32(0)
		if k.hasBias {
			beta = 1
			for m := range k.m {
				convFill(c[m*ldc:m*ldc+panels*d.nr], k.bias[m])
			}
		}
		d.pa1.MulIndirect(panels, stage, 0, d.offs, beta, c, ldc)
		k.groupOut(c, ldc, s0, s1)
	}
}

// groupOut copies samples [s0, s1) of a grouped block c into Y, with the
// epilogue.
func (k *convKernel) groupOut(c []float32, ldc, s0, s1 int) {
	early := k.epi.act && !k.epi.res
	if early {
		all := c[:k.m*ldc]
		unaryApply(k.epi.op, k.epi.alpha, k.epi.beta, all, all)
	}
	for s := s0; s < s1; s++ {
		ys := k.y[s*k.m*k.p : (s+1)*k.m*k.p]
		copyRows(ys, k.p, c[(s-s0)*k.p:], ldc, k.m, k.p)
		if !early && (k.epi.res || k.epi.act) {
			var rs []float32
			if k.res != nil {
				rs = k.res[s*k.m*k.p : (s+1)*k.m*k.p]
			}
			k.epi.apply(ys, rs)
		}
	}
}

// directScratch returns a C buffer for blocks of nb panels, its leading
// dimension, and the function that gives it back.
func (k *convKernel) directScratch() ([]float32, int, func()) {
	d := k.direct
	ldc := roundUp(d.nb*d.nr, 32) // whole vector blocks for the activation
	buf := convGet(d.pa1.RowsPadded() * ldc)
	return *buf, ldc, func() { convPut(buf) }
}

// directUnits computes units [lo, hi) of the batch in progress: unit u is
// block u % blocks of sample s0 + u / blocks.
func (k *convKernel) directUnits(lo, hi int) {
	d := k.direct
	c, ldc, put := k.directScratch()
	defer put()
	for u := lo; u < hi; u++ {
		s, blk := d.s0+u/d.blocks, u%d.blocks
		src, base := d.src, (s-d.s0)*d.sampleFloats
		if d.plan == nil && d.tail != nil && s >= k.n-d.tailN {
			src, base = d.tail, (s-(k.n-d.tailN))*d.sampleFloats
		}
		k.directUnit(c, ldc, s, blk, src, base)
	}
}

// directUnit computes block blk of sample s, whose runs start at base in
// src, through the scratch c.
func (k *convKernel) directUnit(c []float32, ldc, s, blk int, src []float32, base int) {
	d := k.direct
	j0 := blk * d.nb
	np := min(d.nb, d.cols/d.nr-j0)
	if np <= 0 {
		return
	}
	beta := float32(0)
	if k.hasBias {
		beta = 1
		for m := range k.m {
			convFill(c[m*ldc:m*ldc+np*d.nr], k.bias[m])
		}
	}
	d.pa1.MulIndirect(np, src, base+j0*d.nr, d.offs, beta, c, ldc)
	k.directOut(c, ldc, s, j0*d.nr, (j0+np)*d.nr)
}

// directOut copies grid columns [j0, j1) of sample s from c (row m of
// output channel m, column 0 = grid column j0) into Y, keeping the
// columns inside the output, and applies the epilogue to what it wrote.
func (k *convKernel) directOut(c []float32, ldc, s, j0, j1 int) {
	d, g := k.direct, &k.geom
	l, ow := d.l, g.ow
	j1 = min(j1, g.oh*l)
	if j0 >= j1 {
		return
	}
	// Output positions [p0, p1) come from grid columns [j0, j1).
	pos := func(j int) int { // first output position at or after grid column j
		i, jj := j/l, j%l
		if jj >= ow {
			return (i + 1) * ow
		}
		return i*ow + jj
	}
	p0, p1 := pos(j0), pos(j1)
	// Without a residual, the activation runs on c, long and whole vector
	// blocks (the dropped columns too), before the copy.
	early := k.epi.act && !k.epi.res
	if early {
		all := c[:k.m*ldc]
		unaryApply(k.epi.op, k.epi.alpha, k.epi.beta, all, all)
	}
	ys := k.y[s*k.m*k.p : (s+1)*k.m*k.p]
	if l == ow {
		copyRows(ys[j0:], k.p, c, ldc, k.m, j1-j0)
	} else {
		for m := range k.m {
			gridCopy(ys[m*k.p:(m+1)*k.p], c[m*ldc:m*ldc+(j1-j0)], j0, j1, l, ow)
		}
	}
	if early || !k.epi.res && !k.epi.act {
		return
	}
	var rs []float32
	if k.res != nil {
		rs = k.res[s*k.m*k.p : (s+1)*k.m*k.p]
	}
	if p0 == 0 && p1 == k.p { // the whole sample: one pass
		k.epi.apply(ys, rs)
		return
	}
	for m := range k.m {
		var res []float32
		if rs != nil {
			res = rs[m*k.p+p0 : m*k.p+p1]
		}
		k.epi.apply(ys[m*k.p+p0:m*k.p+p1], res)
	}
}

// gridCopy copies grid columns [j0, j1) (crow[0] is column j0) of an
// [rows, l] grid into the [rows, ow] plane y, dropping columns ow..l-1.
func gridCopy(y, crow []float32, j0, j1, l, ow int) {
	i := j0 / l
	// A leading partial row.
	if jj := j0 - i*l; jj != 0 {
		if hi := min(ow, j1-i*l); jj < hi {
			copy(y[i*ow+jj:i*ow+hi], crow[:hi-jj])
		}
		i++
	}
	full := max(0, (j1-i*l-ow)/l+1) // rows wholly inside [j0, j1)
	if i*l+ow > j1 {
		full = 0
	}
	if full > 0 {
		copyRows(y[i*ow:], ow, crow[i*l-j0:], l, full, ow)
		i += full
	}
	// A trailing partial row.
	if i*l < j1 {
		hi := min(ow, j1-i*l)
		copy(y[i*ow:i*ow+hi], crow[i*l-j0:i*l-j0+hi])
	}
}
