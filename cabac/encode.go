package cabac

import (
	"fmt"
	"math"
	"sync"
)

// Limits.
const (
	// MaxCodebook is the largest codebook (shared values) a tensor may
	// have: indices are uint16.
	MaxCodebook = 1 << 16
	// MaxElements bounds rows*cols: positions are uint32, as in package
	// sparse and the .dcz format.
	MaxElements = 1 << 32
	// searchPositions and searchShare set how many leading positions the
	// encoder codes with each candidate profile: the larger of
	// searchPositions and 1/searchShare of the tensor. (A short prefix
	// favours quick adaptation, which learns faster but codes big
	// stationary layers worse.)
	searchShare = 32
	// each candidate profile to choose one.
	searchPositions = 1 << 16
	// searchMax caps the prefix: past 2^18 positions (tensors of over 8 M)
	// a longer one changes little but costs encoding time.
	searchMax = 1 << 18
	// gapSlack: the encoder takes the gap profile, whose decoder does two
	// range-coder steps per kept weight instead of a bin per position and
	// per index bit, unless the per-position profiles promise to save more
	// than 0.1 % of the bits.
	gapSlack = 1.001
	// gapExtraBits is about what the gap profile's layout adds: five
	// lengths and five more coders' final bytes.
	gapExtraBits = 160
)

// Symbol is an integer type a dense tensor of cluster indices may use.
type Symbol interface{ ~uint8 | ~uint16 }

// Cost is the ideal code length, in bits, of a tensor under the adaptive
// model: the sum over the context-coded bins of -log2 of the probability
// the model gave the bin's value, plus one bit per bypass bin. A range
// coder reaches it up to the rounding of its range and its last bytes.
type Cost struct {
	Sig    float64 // significance flags
	Index  float64 // context-coded index bins
	Bypass float64 // bypass bins (index bits beyond the context tree)
}

// Bits is the whole ideal length in bits.
func (c Cost) Bits() float64 { return c.Sig + c.Index + c.Bypass }

// Bytes is the ideal length of a stream: the profile byte and
// ceil(Bits/8).
func (c Cost) Bytes() float64 { return 1 + math.Ceil(c.Bits()/8) }

// costSink adds up the ideal code length of the bins and adapts the
// contexts exactly as the coder does.
type costSink struct {
	c   *Cost
	log *[1<<16 + 1]float32
}

func newCostSink(c *Cost) costSink { return costSink{c, log2Table()} }

func (s costSink) sigBin(st *state, bit uint32, r rates) {
	s.c.Sig += s.cost(st, bit)
	st.update(bit, r)
}
func (s costSink) idxBin(st *state, bit uint32, r rates) {
	s.c.Index += s.cost(st, bit)
	st.update(bit, r)
}
func (s costSink) bypass(v uint32, n int) { s.c.Bypass += float64(n) }

func (s costSink) cost(st *state, bit uint32) float64 {
	p := st.p0()
	if bit != 0 {
		p = 1<<16 - p
	}
	return float64(s.log[p])
}

// log2Table()[p] = -log2(p / 2^16).
var log2Table = sync.OnceValue(func() *[1<<16 + 1]float32 {
	t := new([1<<16 + 1]float32)
	for p := 1; p <= 1<<16; p++ {
		t[p] = float32(-math.Log2(float64(p) / (1 << 16)))
	}
	return t
})

// Encoder codes tensors; it keeps its buffers between calls. The zero
// value is ready to use; an Encoder must not be used concurrently.
type Encoder struct {
	md model
	gm gapModel
	rc encoder
	// the gap profile's coders and their buffers
	coders   [gapLanes]wideEncoder
	laneBufs [gapLanes][]byte
	pos      []uint32
	idx      []uint16
	lanes    []state // contexts of the profile search
}

func checkShape(rows, cols, m int) error {
	switch {
	case rows < 0 || cols < 0:
		return fmt.Errorf("cabac: shape %d x %d", rows, cols)
	case uint64(rows)*uint64(cols) > MaxElements:
		return fmt.Errorf("cabac: shape %d x %d exceeds 2^32 elements", rows, cols)
	case m < 0 || m > MaxCodebook:
		return fmt.Errorf("cabac: codebook size %d outside 0..%d", m, MaxCodebook)
	}
	return nil
}

// EncodeSparse appends to dst the stream of a rows x cols tensor whose
// non-zeros are at the strictly ascending row-major positions pos, with
// codebook indices idx (each below the codebook size m): the form of
// quantize.Layer. A convolution kernel [out, in, kh, kw] is coded as
// rows = out, cols = in*kh*kw.
func (enc *Encoder) EncodeSparse(dst []byte, rows, cols int, pos []uint32, idx []uint16, m int) ([]byte, error) {
	if err := checkSparse(rows, cols, pos, idx, m); err != nil {
		return nil, err
	}
	return enc.encode(dst, rows, cols, pos, idx, m, enc.chooseProfile(rows, cols, pos, idx, m)), nil
}

// encode writes the stream with the given profile.
func (enc *Encoder) encode(dst []byte, rows, cols int, pos []uint32, idx []uint16, m int, prof byte) []byte {
	if prof&profGaps != 0 {
		return enc.encodeGaps(dst, uint64(rows)*uint64(cols), pos, idx, m)
	}
	dst = append(dst, prof)
	enc.md.reset(rows, cols, m, prof)
	enc.rc.reset(dst)
	enc.run(pos, idx)
	out := enc.rc.finish()
	enc.rc.buf = nil
	return out
}

func checkSparse(rows, cols int, pos []uint32, idx []uint16, m int) error {
	if err := checkShape(rows, cols, m); err != nil {
		return err
	}
	if len(pos) != len(idx) {
		return fmt.Errorf("cabac: %d positions but %d indices", len(pos), len(idx))
	}
	n := uint64(rows) * uint64(cols)
	for i, p := range pos {
		if uint64(p) >= n || (i > 0 && p <= pos[i-1]) {
			return fmt.Errorf("cabac: position %d (entry %d) out of order or outside 0..%d", p, i, n-1)
		}
		if int(idx[i]) >= m {
			return fmt.Errorf("cabac: index %d (entry %d) outside the codebook of %d", idx[i], i, m)
		}
	}
	return nil
}

// EncodeTensor appends to dst the stream of a dense rows x cols tensor of
// cluster values: 0 for a pruned weight, v in 1..k-1 for codebook entry
// v-1. It is EncodeSparse of the non-zeros with a codebook of k-1 entries,
// so DecodeSparse reads the stream too.
func EncodeTensor[S Symbol](dst []byte, rows, cols int, vals []S, k int) ([]byte, error) {
	var enc Encoder
	return encodeDense(&enc, dst, rows, cols, vals, k)
}

func encodeDense[S Symbol](enc *Encoder, dst []byte, rows, cols int, vals []S, k int) ([]byte, error) {
	if k < 1 {
		return nil, fmt.Errorf("cabac: alphabet size %d, want at least 1 (the zero)", k)
	}
	if err := checkShape(rows, cols, k-1); err != nil {
		return nil, err
	}
	if len(vals) != rows*cols {
		return nil, fmt.Errorf("cabac: %d values for a %d x %d tensor", len(vals), rows, cols)
	}
	enc.pos, enc.idx = enc.pos[:0], enc.idx[:0]
	for p, v := range vals {
		if v == 0 {
			continue
		}
		if int(v) >= k {
			return nil, fmt.Errorf("cabac: value %d at position %d outside 0..%d", v, p, k-1)
		}
		enc.pos = append(enc.pos, uint32(p))
		enc.idx = append(enc.idx, uint16(v-1))
	}
	return enc.EncodeSparse(dst, rows, cols, enc.pos, enc.idx, k-1)
}

// chooseProfile codes the first max(searchPositions, n/searchShare)
// positions (at most searchMax) with every rate pair and context set,
// extrapolates each cost to the whole tensor from the cost of the second
// half of that prefix, and keeps for the significance flags and for the
// indices separately the cheapest (the two never share a context, so
// their costs add up); then it takes the gap profile instead unless that
// costs more than gapSlack times as much over the same prefix.
func (enc *Encoder) chooseProfile(rows, cols int, pos []uint32, idx []uint16, m int) byte {
	if m == 0 {
		return 0
	}
	n := uint64(rows) * uint64(cols)
	limit := min(n, max(searchPositions, min(n/searchShare, searchMax)))
	p, _, _ := enc.choose(rows, cols, pos, idx, m, limit)
	return p
}

// choose is chooseProfile with a given prefix; it also returns the two
// estimates, the best per-position profile's and the gap profile's, in
// bits.
func (enc *Encoder) choose(rows, cols int, pos []uint32, idx []uint16, m int, limit uint64) (prof byte, old, gap float64) {
	n := uint64(rows) * uint64(cols)
	est := func(h, f float64) float64 {
		if limit >= n {
			return f
		}
		return f + (f-h)/float64(limit-limit/2)*float64(n-limit)
	}
	bestSig, bestIdx := math.Inf(1), math.Inf(1)
	var sigBits, idxBits byte
	for _, mode := range []byte{0, profNeighbours | profPrevClass} {
		half, full := enc.search(rows, cols, pos, idx, m, mode, limit)
		for r := range byte(len(rateTable)) {
			if c := est(half[r].Sig, full[r].Sig); c < bestSig {
				bestSig, sigBits = c, r|mode&profNeighbours
			}
			if c := est(half[r].Index, full[r].Index); c < bestIdx {
				bestIdx, idxBits = c, r<<2|mode&profPrevClass
			}
		}
	}
	// The gap profile's cost over the same prefix, extrapolated alike:
	// both estimates then share the prefix's bias.
	gh, gf := enc.gapCost(n, m, pos, idx, limit)
	old = bestSig + bestIdx
	gap = est(gh.Sig+gh.Index, gf.Sig+gf.Index) + gapExtraBits
	if gap <= old*gapSlack {
		return profGaps, old, gap
	}
	return sigBits | idxBits, old, gap
}

// search returns the costs of the first limit/2 and of the first limit
// positions under the context sets of mode with each pair of rateTable:
// the model's run with four sets of contexts side by side.
func (enc *Encoder) search(rows, cols int, pos []uint32, idx []uint16, m int, mode byte, limit uint64) (half, c [len(rateTable)]Cost) {
	md := &enc.md
	md.reset(rows, cols, m, mode)
	if m == 0 {
		return half, c
	}
	log := log2Table()
	const lanes = len(rateTable)
	nsig, ntree := len(md.sig), len(md.tree)
	enc.lanes = fill(enc.lanes, lanes*(nsig+ntree))
	sig := enc.lanes[:lanes*nsig]
	tree := enc.lanes[lanes*nsig:]
	nbr := mode&profNeighbours != 0
	last := 0 // class of the last index coded
	bbits := md.nbits - md.tbits
	p := 0
	next := uint64(1) << 63
	if len(pos) > 0 {
		next = uint64(pos[0])
	}
	var sigCost, idxCost [lanes]float64
	code := func(st []state, bit uint32, acc *[lanes]float64) {
		for l := range lanes {
			s := &st[l]
			q := s.p0()
			if bit != 0 {
				q = 1<<16 - q
			}
			acc[l] += float64(log[q])
			s.update(bit, rateTable[l])
		}
	}
	flat := uint64(0)
	defer func() {
		for l := range lanes {
			c[l] = Cost{Sig: sigCost[l], Index: idxCost[l], Bypass: 0}
		}
	}()
	for i := 0; i < rows; i++ {
		scale := rowScale(i)
		tab := md.classTable(i, scale)
		left := 0
		row := uint32(i)
		for j := range cols {
			if flat == limit/2 {
				for l := range lanes {
					half[l] = Cost{Sig: sigCost[l], Index: idxCost[l]}
				}
			}
			if flat >= limit {
				return
			}
			cs := &md.col[j]
			var ctx int
			if tab != nil {
				ctx = int(tab[cs.count])
			} else {
				ctx = colClass(cs.count, scale)
			}
			if nbr {
				above := 0
				if cs.last == row && row > 0 {
					above = 1
				}
				ctx = ctx*3 + left + above
			}
			if flat != next {
				code(sig[ctx*lanes:ctx*lanes+lanes], 0, &sigCost)
				left = 0
				flat++
				continue
			}
			code(sig[ctx*lanes:ctx*lanes+lanes], 1, &sigCost)
			tbase := md.treeBase(left, last)
			left = 1
			cs.count++
			cs.last = row + 1
			top := uint32(idx[p]) >> uint(bbits)
			node := 1
			for b := md.tbits - 1; b >= 0; b-- {
				bit := top >> uint(b) & 1
				k := (tbase + node) * lanes
				code(tree[k:k+lanes], bit, &idxCost)
				node = node<<1 | int(bit)
			}
			last = md.class(top)
			p++
			if p < len(pos) {
				next = uint64(pos[p])
			} else {
				next = 1 << 63
			}
			flat++
		}
	}
	return half, c
}

// Bound returns the ideal code length of the tensor under the profile
// EncodeSparse picks: what the stream would take with a perfect
// arithmetic coder (the context bound).
func (enc *Encoder) Bound(rows, cols int, pos []uint32, idx []uint16, m int) (Cost, error) {
	if err := checkSparse(rows, cols, pos, idx, m); err != nil {
		return Cost{}, err
	}
	prof := enc.chooseProfile(rows, cols, pos, idx, m)
	if prof&profGaps != 0 {
		_, c := enc.gapCost(uint64(rows)*uint64(cols), m, pos, idx, MaxElements)
		return c, nil
	}
	var c Cost
	enc.md.reset(rows, cols, m, prof)
	run(&enc.md, newCostSink(&c), pos, idx, MaxElements)
	return c, nil
}

// run codes every position: the model's run (model.go) with the range
// coder's bin inlined.
func (enc *Encoder) run(pos []uint32, idx []uint16) {
	md, e := &enc.md, &enc.rc
	if md.m == 0 {
		return
	}
	sr, ir := md.sr, md.ir
	nmul, nmask := 1, 0 // ctx = class*3 + left + above with neighbours, class without
	if md.prof&profNeighbours != 0 {
		nmul, nmask = 3, 3
	}
	last := 0 // class of the last index coded
	tbits, bbits := md.tbits, md.nbits-md.tbits
	sig, tree, col := md.sig, md.tree, md.col
	p := 0
	next := uint64(1) << 63
	if len(pos) > 0 {
		next = uint64(pos[0])
	}
	flat := uint64(0)
	for i := 0; i < md.rows; i++ {
		scale := rowScale(i)
		tab := md.classTable(i, scale)
		left := 0
		row := uint32(i)
		aboveKey := row // cs.last == aboveKey: the column's last non-zero is in the row above
		if row == 0 {
			aboveKey = 1<<32 - 1
		}
		for j := range col {
			cs := &col[j]
			var ctx int
			if tab != nil {
				ctx = int(tab[cs.count])
			} else {
				ctx = colClass(cs.count, scale)
			}
			above := 0
			if cs.last == aboveKey {
				above = 1
			}
			ctx = ctx*nmul + (left+above)&nmask
			st := &sig[ctx]
			bound := (e.rng >> 16) * st.p0()
			if flat != next {
				e.rng = bound
				st.fast += (probOne - st.fast) >> sr.fast
				st.slow += (probOne - st.slow) >> sr.slow
				if e.rng < topValue {
					e.renorm()
				}
				left = 0
				flat++
				continue
			}
			e.low += uint64(bound)
			e.rng -= bound
			st.fast -= st.fast >> sr.fast
			st.slow -= st.slow >> sr.slow
			if e.rng < topValue {
				e.renorm()
			}
			tbase := md.treeBase(left, last)
			left = 1
			cs.count++
			cs.last = row + 1
			v := uint32(idx[p])
			top := v >> uint(bbits)
			node := 1
			for b := tbits - 1; b >= 0; b-- {
				bit := top >> uint(b) & 1
				st := &tree[tbase+node]
				bound := (e.rng >> 16) * st.p0()
				if bit == 0 {
					e.rng = bound
					st.fast += (probOne - st.fast) >> ir.fast
					st.slow += (probOne - st.slow) >> ir.slow
				} else {
					e.low += uint64(bound)
					e.rng -= bound
					st.fast -= st.fast >> ir.fast
					st.slow -= st.slow >> ir.slow
				}
				if e.rng < topValue {
					e.renorm()
				}
				node = node<<1 | int(bit)
			}
			if bbits > 0 {
				e.bypass(v, bbits)
			}
			last = md.class(top)
			p++
			if p < len(pos) {
				next = uint64(pos[p])
			} else {
				next = 1 << 63
			}
			flat++
		}
	}
}
