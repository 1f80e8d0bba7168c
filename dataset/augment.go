package dataset

import "math/rand/v2"

// Shift moves each of n samples of shape [C, H, W] (NCHW, back to back in
// x) by a random offset of up to max pixels in each direction, in place:
// the augmentation that lets a few thousand images teach a compressed
// model what its original does on many more. Pixels shifted in take the
// sample's smallest value in that channel (the background of a normalised
// image). Samples of any other rank are left alone.
func Shift(x []float32, n int, shape []int, max int, rng *rand.Rand) {
	if len(shape) != 3 || max <= 0 {
		return
	}
	c, h, w := shape[0], shape[1], shape[2]
	plane := h * w
	tmp := make([]float32, plane)
	for s := range n {
		dy, dx := rng.IntN(2*max+1)-max, rng.IntN(2*max+1)-max
		if dx == 0 && dy == 0 {
			continue
		}
		for ch := range c {
			p := x[(s*c+ch)*plane:][:plane]
			shiftPlane(p, tmp, h, w, dy, dx)
		}
	}
}

// shiftPlane moves one h x w plane by (dy, dx), filling with its minimum.
func shiftPlane(p, tmp []float32, h, w, dy, dx int) {
	fill := p[0]
	for _, v := range p {
		fill = min(fill, v)
	}
	for y := range h {
		sy := y - dy
		row := tmp[y*w : (y+1)*w]
		if sy < 0 || sy >= h {
			for i := range row {
				row[i] = fill
			}
			continue
		}
		src := p[sy*w : (sy+1)*w]
		for x := range w {
			sx := x - dx
			if sx < 0 || sx >= w {
				row[x] = fill
			} else {
				row[x] = src[sx]
			}
		}
	}
	copy(p, tmp)
}
