package nn

import (
	"math"
	"math/rand/v2"
)

// relu computes y = max(x, 0).
type relu struct {
	noParams
	inputGrad
	y, dx Tensor
}

func (l *relu) forward(x *Tensor, train bool) *Tensor {
	y := l.y.resize(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = max(v, 0)
	}
	return y
}

func (l *relu) backward(dy *Tensor) *Tensor {
	if !l.needDX {
		return nil
	}
	dx := l.dx.resize(dy.Shape...)
	y := l.y.Data[:len(dy.Data)]
	for i, g := range dy.Data {
		// y = max(x, 0) is never negative, so y > 0 exactly when its bits
		// are non-zero: a branch-free mask, since the sign of x is random.
		pos := uint32(-int32(math.Float32bits(y[i])) >> 31)
		dx.Data[i] = math.Float32frombits(math.Float32bits(g) & pos)
	}
	return dx
}

// flatten reshapes [N, ...] to [N, prod(...)] without copying.
type flatten struct {
	noParams
	inputGrad
	inShape []int
	y, dx   Tensor
}

func (l *flatten) forward(x *Tensor, train bool) *Tensor {
	l.inShape = append(l.inShape[:0], x.Shape...)
	l.y = Tensor{Shape: append(l.y.Shape[:0], x.batch(), x.rowLen()), Data: x.Data}
	return &l.y
}

func (l *flatten) backward(dy *Tensor) *Tensor {
	if !l.needDX {
		return nil
	}
	l.dx = Tensor{Shape: append(l.dx.Shape[:0], l.inShape...), Data: dy.Data}
	return &l.dx
}

// dropout zeroes each activation with probability rate while training and
// scales the survivors by 1/(1-rate) (inverted dropout), so inference is the
// identity.
type dropout struct {
	noParams
	inputGrad
	rate  float32
	rng   *rand.Rand
	src   *rand.PCG // rng's source, whose state RandomState saves
	keep  []float32 // per activation: 0 or 1/(1-rate)
	y, dx Tensor
	train bool
	// frozen reuses the last mask instead of drawing a new one, so that
	// gradient checks see a deterministic function.
	frozen bool
}

func (l *dropout) forward(x *Tensor, train bool) *Tensor {
	l.train = train && l.rate > 0
	if !l.train {
		return x
	}
	y := l.y.resize(x.Shape...)
	if cap(l.keep) < len(x.Data) {
		l.keep = make([]float32, len(x.Data))
	}
	draw := !l.frozen || len(l.keep) != len(x.Data)
	l.keep = l.keep[:len(x.Data)]
	scale := 1 / (1 - l.rate)
	for i, v := range x.Data {
		if draw {
			l.keep[i] = 0
			if l.rng.Float32() >= l.rate {
				l.keep[i] = scale
			}
		}
		y.Data[i] = v * l.keep[i]
	}
	return y
}

func (l *dropout) backward(dy *Tensor) *Tensor {
	if !l.needDX || !l.train {
		if l.needDX {
			return dy
		}
		return nil
	}
	dx := l.dx.resize(dy.Shape...)
	for i, g := range dy.Data {
		dx.Data[i] = g * l.keep[i]
	}
	return dx
}

// softmax turns each row into probabilities. It is for inference only:
// training uses the fused SoftmaxCrossEntropy, whose gradient is stable.
type softmax struct {
	noParams
	inputGrad
	y Tensor
}

func (l *softmax) forward(x *Tensor, train bool) *Tensor {
	y := l.y.resize(x.Shape...)
	cols := x.Shape[len(x.Shape)-1]
	for off := 0; off < len(x.Data); off += cols {
		Softmax(y.Data[off:off+cols], x.Data[off:off+cols])
	}
	return y
}

func (l *softmax) backward(dy *Tensor) *Tensor {
	// dx_i = y_i * (dy_i - sum_j dy_j y_j)
	dx := Tensor{Shape: dy.Shape, Data: make([]float32, len(dy.Data))}
	cols := dy.Shape[len(dy.Shape)-1]
	for off := 0; off < len(dy.Data); off += cols {
		y, g := l.y.Data[off:off+cols], dy.Data[off:off+cols]
		var dot float32
		for j := range y {
			dot += y[j] * g[j]
		}
		for j := range y {
			dx.Data[off+j] = y[j] * (g[j] - dot)
		}
	}
	return &dx
}

// Softmax writes exp(x_i - max x) / sum_j exp(x_j - max x) into p.
func Softmax(p, x []float32) {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var s float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		p[i] = float32(e)
		s += e
	}
	for i := range p {
		p[i] = float32(float64(p[i]) / s)
	}
}
