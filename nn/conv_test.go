package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
)

// naiveConv is the definition: y[n,o,i,j] = b[o] + sum W[o,c,u,v] x[n,c,i*s-p+u,j*s-p+v].
func naiveConv(x, w, b []float32, n, c, h, wd, oc, kh, kw, sh, sw, ph, pw int) []float32 {
	oh, ow := (h+2*ph-kh)/sh+1, (wd+2*pw-kw)/sw+1
	y := make([]float32, n*oc*oh*ow)
	for s := 0; s < n; s++ {
		for o := 0; o < oc; o++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					acc := float64(b[o])
					for ch := 0; ch < c; ch++ {
						for u := 0; u < kh; u++ {
							for v := 0; v < kw; v++ {
								iy, ix := i*sh-ph+u, j*sw-pw+v
								if iy >= 0 && iy < h && ix >= 0 && ix < wd {
									acc += float64(w[((o*c+ch)*kh+u)*kw+v]) * float64(x[((s*c+ch)*h+iy)*wd+ix])
								}
							}
						}
					}
					y[((s*oc+o)*oh+i)*ow+j] = float32(acc)
				}
			}
		}
	}
	return y
}

func TestConvMatchesDefinition(t *testing.T) {
	for _, l := range []arch.Layer{
		{Kind: arch.Conv2D, Name: "c", Out: 4, Kernel: [2]int{5, 5}},
		{Kind: arch.Conv2D, Name: "c", Out: 3, Kernel: [2]int{3, 2}, Stride: [2]int{2, 3}, Pad: [2]int{1, 1}},
		{Kind: arch.Conv2D, Name: "c", Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{2, 2}},
	} {
		spec := arch.Spec{Input: []int{3, 11, 9}, Layers: []arch.Layer{l}}
		m, err := New(spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		const n = 2
		x := make([]float32, n*m.InputSize())
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		got := m.Forward(x, n, false).Data
		st := l.StrideOrDefault()
		want := naiveConv(x, m.Param("c.weight").Data, m.Param("c.bias").Data, n, 3, 11, 9, l.Out,
			l.Kernel[0], l.Kernel[1], st[0], st[1], l.Pad[0], l.Pad[1])
		if len(got) != len(want) {
			t.Fatalf("%+v: %d outputs, want %d", l, len(got), len(want))
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4 {
				t.Fatalf("%+v: y[%d] = %v, want %v", l, i, got[i], want[i])
			}
		}
	}
}
