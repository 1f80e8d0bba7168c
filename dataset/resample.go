package dataset

import (
	"fmt"
	"math"
)

// taps are the filter weights of a 1-D resampling: output i is the sum of
// w[off[i]+k] * in[lo[i]+k] for k < off[i+1]-off[i].
type taps struct {
	lo  []int
	off []int
	w   []float32
}

// bilinearTaps computes PIL's bilinear resampling coefficients
// (libImaging/Resample.c, precompute_coeffs): outSize outputs covering the
// source interval [in0, in1) of an axis of inSize pixels, pixel centres at
// half integers. When shrinking, the triangle filter is widened by the
// reduction factor, so each output averages the inputs it covers.
func bilinearTaps(inSize int, in0, in1 float64, outSize int) taps {
	scale := (in1 - in0) / float64(outSize)
	fs := max(scale, 1)
	support := fs // the triangle's support is 1
	t := taps{lo: make([]int, outSize), off: make([]int, outSize+1)}
	var k []float64
	for i := range outSize {
		center := in0 + (float64(i)+0.5)*scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), inSize)
		k = k[:0]
		sum := 0.0
		for x := lo; x < hi; x++ {
			d := math.Abs((float64(x) - center + 0.5) / fs)
			w := 0.0
			if d < 1 {
				w = 1 - d
			}
			k = append(k, w)
			sum += w
		}
		// Drop zero weights at both ends (an unscaled axis keeps one tap).
		a, b := 0, len(k)
		for a < b && k[a] == 0 {
			a++
		}
		for b > a && k[b-1] == 0 {
			b--
		}
		if a == b { // no weight at all (cannot happen for a non-empty box): nearest pixel
			a, b, k, sum = 0, 1, append(k[:0], 1), 1
			lo = min(max(int(center), 0), inSize-1)
		}
		t.lo[i] = lo + a
		for _, w := range k[a:b] {
			t.w = append(t.w, float32(w/sum))
		}
		t.off[i+1] = len(t.w)
	}
	return t
}

// geometry is where the resized image lands in the output and which part
// of the source it shows.
type geometry struct {
	ox, oy, ow, oh     int     // the region of the output that the image covers
	bx0, bx1, by0, by1 float64 // the source box it shows
}

func (p Preprocess) geometry(sw, sh int) geometry {
	g := geometry{ow: p.Width, oh: p.Height, bx1: float64(sw), by1: float64(sh)}
	W, H := float64(p.Width), float64(p.Height)
	switch p.Resize {
	case Crop:
		s := max(W/float64(sw), H/float64(sh))
		bw, bh := W/s, H/s
		g.bx0, g.by0 = (float64(sw)-bw)/2, (float64(sh)-bh)/2
		g.bx1, g.by1 = g.bx0+bw, g.by0+bh
		// Rounding can put the box a hair outside the image.
		g.bx0, g.by0 = max(g.bx0, 0), max(g.by0, 0)
		g.bx1, g.by1 = min(g.bx1, float64(sw)), min(g.by1, float64(sh))
	case Pad:
		s := min(W/float64(sw), H/float64(sh))
		g.ow = min(max(int(math.Round(float64(sw)*s)), 1), p.Width)
		g.oh = min(max(int(math.Round(float64(sh)*s)), 1), p.Height)
		g.ox, g.oy = (p.Width-g.ow)/2, (p.Height-g.oh)/2
	}
	return g
}

// apply preprocesses src into dst (SampleSize values in Layout). p is
// normalised and valid.
func (p Preprocess) apply(src source, dst []float32) error {
	sw, sh := src.size()
	if sw <= 0 || sh <= 0 {
		return fmt.Errorf("dataset: empty image (%d x %d)", sw, sh)
	}
	if len(dst) != p.SampleSize() {
		return fmt.Errorf("dataset: internal: output of %d values for a %d-value input", len(dst), p.SampleSize())
	}
	c := p.Channels
	g := p.geometry(sw, sh)
	hx := bilinearTaps(sw, g.bx0, g.bx1, g.ow)
	vy := bilinearTaps(sh, g.by0, g.by1, g.oh)

	// Stream the source rows once, in order: filter each horizontally and
	// add it, weighted, to the output rows whose vertical taps include it.
	// The windows of the output rows move monotonically down the source.
	acc := make([]float32, g.oh*g.ow*c)
	srcRow := make([]float32, sw*c)
	hRow := make([]float32, g.ow*c)
	first := 0
	yEnd := vy.lo[g.oh-1] + vy.off[g.oh] - vy.off[g.oh-1]
	for y := vy.lo[0]; y < yEnd; y++ {
		for first < g.oh && vy.lo[first]+vy.off[first+1]-vy.off[first] <= y {
			first++
		}
		if first == g.oh || vy.lo[first] > y {
			continue // no output row uses this source row
		}
		src.row(y, srcRow)
		for x := range g.ow {
			ws := hx.w[hx.off[x]:hx.off[x+1]]
			in := srcRow[hx.lo[x]*c:]
			h := hRow[x*c : x*c+c]
			if c == 1 {
				s := float32(0)
				for k, w := range ws {
					s += w * in[k]
				}
				h[0] = s
				continue
			}
			var s0, s1, s2 float32
			for k, w := range ws {
				s0 += w * in[3*k]
				s1 += w * in[3*k+1]
				s2 += w * in[3*k+2]
			}
			h[0], h[1], h[2] = s0, s1, s2
		}
		for j := first; j < g.oh && vy.lo[j] <= y; j++ {
			k := y - vy.lo[j]
			if k >= vy.off[j+1]-vy.off[j] {
				continue
			}
			w := vy.w[vy.off[j]+k]
			a := acc[j*g.ow*c : (j+1)*g.ow*c]
			for i, v := range hRow {
				a[i] += w * v
			}
		}
	}

	n := p.norm()
	H, W := p.Height, p.Width
	pad := [3]float32{n.at(0, 0), n.at(0, 1), n.at(0, 2)}
	set := func(y, x, ch int, v float32) {
		if p.Layout == NHWC {
			dst[(y*W+x)*c+ch] = v
		} else {
			dst[(ch*H+y)*W+x] = v
		}
	}
	if g.ow != W || g.oh != H {
		for y := range H {
			for x := range W {
				for ch := range c {
					set(y, x, ch, pad[ch])
				}
			}
		}
	}
	for j := range g.oh {
		for x := range g.ow {
			for ch := range c {
				set(g.oy+j, g.ox+x, ch, n.at(acc[(j*g.ow+x)*c+ch], ch))
			}
		}
	}
	return nil
}
