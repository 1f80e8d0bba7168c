package engine

// The depthwise forward pass over many samples at once.
//
// The vector path of a depthwise convolution (dwPlan) turns each tap into
// one run of FMAs over a plane laid out in phase planes; on the small maps
// of mobile networks (4x4 to 14x14) a plane is a few vectors, and the
// calls, copies and loop set-up per plane cost more than the arithmetic.
// All the samples of one channel share its weights, so their phase planes
// are stacked, each sample's block ps = rows*l floats after the previous
// one's, phase by phase:
//
//	stage[ph*nc*ps + s*ps + r*l + c] = phase plane ph of sample s, at (r, c)
//
// and output (s, i, j) of the grid is element s*ps + i*l + j of one run of
// nc*ps outputs: tap t reads the stage at that index plus offs[t] =
// ph*nc*ps + (row shift)*l + (column shift). The rows past oh of each
// sample's block (the taps' reach, du = (kH-1)*dH/sH rows) are computed
// and dropped like the columns past ow. Each output is the same sum, in
// the same order, as on the per-plane path.

// dwBatchFloats bounds the stage of one worker.
const dwBatchFloats = 1 << 16

// dwBatch is the stacked layout of one depthwise Conv.
type dwBatch struct {
	p      *dwPlan
	ps     int       // floats per sample in a phase block
	nc     int       // samples per run
	grid   int       // outputs computed per run: nc*ps in whole vectors
	offs   []int     // per tap
	size   int       // floats of a stage
	stages stagePool // padding zero
}

// newDWBatch returns the stacked layout for batches of n, or nil without
// a vector path (p nil) or for a single sample.
func newDWBatch(g *convGeom, p *dwPlan, n int) *dwBatch {
	if p == nil || n < 2 {
		return nil
	}
	phases := g.sh * g.sw
	b := &dwBatch{p: p, ps: p.rows * p.l}
	b.nc = max(1, min(n, dwBatchFloats/(phases*b.ps)))
	b.grid = roundUp(b.nc*b.ps, dwVec)
	top := 0
	for u := range g.kh {
		for v := range g.kw {
			ry, rx := u*g.dh, v*g.dw
			ph := (ry%g.sh)*g.sw + rx%g.sw
			o := ph*b.nc*b.ps + ry/g.sh*p.l + rx/g.sw
			b.offs = append(b.offs, o)
			top = max(top, o)
		}
	}
	b.size = max(phases*b.nc*b.ps, b.grid+top)
	return b
}

// depthwiseBatched computes output channels [lo, hi) for the whole batch.
func (k *convKernel) depthwiseBatched(lo, hi int) {
	b, g := k.dwb, &k.geom
	p := b.p
	khw := g.kh * g.kw
	stage := b.stages.get(b.size)
	defer b.stages.put(stage)
	outBuf := convGet(roundUp(b.grid, 32))
	defer convPut(outBuf)
	out := *outBuf
	early := k.epi.act && !k.epi.res
	for o := lo; o < hi; o++ {
		ci := o / k.mg
		var bias float32
		if k.hasBias {
			bias = k.bias[o]
		}
		w := k.wt[o*khw : (o+1)*khw]
		for s0 := 0; s0 < k.n; s0 += b.nc {
			s1 := min(k.n, s0+b.nc)
			if o == lo || o%k.mg == 0 || s0 > 0 || k.n > b.nc {
				for s := s0; s < s1; s++ {
					plane := s*k.group + ci
					g.dwPhasesAt(p, k.x[plane*k.inPlane:(plane+1)*k.inPlane], stage[(s-s0)*b.ps:], b.nc*b.ps)
				}
			}
			n := roundUp((s1-s0)*b.ps, dwVec)
			dwTaps(out[:n], stage, b.offs, w, bias)
			if early {
				whole := out[:roundUp(n, 32)]
				unaryApply(k.epi.op, k.epi.alpha, k.epi.beta, whole, whole)
			}
			for s := s0; s < s1; s++ {
				idx := s*k.m + o
				copyRows(k.y[idx*k.p:(idx+1)*k.p], g.ow, out[(s-s0)*b.ps:], p.l, g.oh, g.ow)
				if !early {
					k.planeEpilogue(idx)
				}
			}
		}
	}
}
