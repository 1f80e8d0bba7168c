package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

func layerNormRef(x, scale, bias []float32, d int, eps float64) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < len(x)/d; r++ {
		row := x[r*d : (r+1)*d]
		var mu, v float64
		for _, e := range row {
			mu += float64(e)
		}
		mu /= float64(d)
		for _, e := range row {
			v += (float64(e) - mu) * (float64(e) - mu)
		}
		v /= float64(d)
		for i, e := range row {
			y[r*d+i] = (float64(e) - mu) / math.Sqrt(v+eps) * float64(scale[i])
			if bias != nil {
				y[r*d+i] += float64(bias[i])
			}
		}
	}
	return y
}

func layerNormNode(axis int64, eps float32, bias bool) graph.Node {
	n := graph.Node{Op: "LayerNormalization", Inputs: []string{"x", "scale"}, Outputs: []string{"y"}, Attrs: map[string]graph.Attr{}}
	if bias {
		n.Inputs = append(n.Inputs, "bias")
	}
	if axis != 100 {
		n.Attrs["axis"] = graph.Int(axis)
	}
	if eps != 0 {
		n.Attrs["epsilon"] = graph.Float(eps)
	}
	return n
}

func TestLayerNormForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	for _, c := range []struct {
		shape []int
		axis  int64 // 100: the default
		norm  []int // scale's shape
	}{
		{[]int{2, 3, 8}, 100, []int{8}},
		{[]int{2, 3, 8}, -1, []int{8}},
		{[]int{2, 3, 8}, -2, []int{3, 8}},
		{[]int{2, 3, 8}, 1, []int{1, 3, 8}},
		{[]int{2, 3, 8}, 0, []int{2, 3, 8}},
		{[]int{64, 512}, -1, []int{512}}, // rows split between workers
	} {
		for _, bias := range []bool{false, true} {
			for _, eps := range []float32{0, 1e-3} {
				x := randTensor(rng, c.shape...)
				scale, b := randTensor(rng, c.norm...), randTensor(rng, c.norm...)
				params := map[string]*graph.Tensor{"scale": scale}
				var bf []float32
				if bias {
					params["bias"] = b
					bf = b.F
				}
				y := runOp(t, 17, layerNormNode(c.axis, eps, bias), map[string]*graph.Tensor{"x": x}, params)
				e := 1e-5
				if eps != 0 {
					e = float64(eps)
				}
				want := layerNormRef(x.F, scale.F, bf, numel(c.norm), e)
				for i, got := range y.F {
					if !ewClose(got, want[i]) {
						t.Fatalf("%v axis %d: y[%d] = %g, want %g", c.shape, c.axis, i, got, want[i])
					}
				}
			}
		}
	}
}

func TestLayerNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2))
	for _, c := range []struct {
		shape []int
		axis  int64
		norm  []int
	}{{[]int{2, 3, 8}, -1, []int{8}}, {[]int{2, 3, 4}, 1, []int{3, 4}}, {[]int{40, 600}, -1, []int{600}}} {
		for _, bias := range []bool{false, true} {
			x := randTensor(rng, c.shape...)
			params := map[string]*graph.Tensor{"scale": randTensor(rng, c.norm...)}
			if bias {
				params["bias"] = randTensor(rng, c.norm...)
			}
			ins := map[string]*graph.Tensor{"x": x}
			gradCheck(t, opGraph(17, layerNormNode(c.axis, 0, bias), ins, params), ins, 3e-3)
		}
	}
}

func TestLayerNormErrors(t *testing.T) {
	x := graph.NewFloat([]int{2, 4}, make([]float32, 8))
	try := func(n graph.Node, scale []int, want string) {
		t.Helper()
		params := map[string]*graph.Tensor{"scale": graph.NewFloat(scale, make([]float32, numel(scale)))}
		m, err := New(opGraph(17, n, map[string]*graph.Tensor{"x": x}, params), Options{})
		if err == nil {
			_, err = m.Run(map[string]*graph.Tensor{"x": x})
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error with %q", err, want)
		}
	}
	n := layerNormNode(-1, 0, false)
	n.Outputs = []string{"y", "mean"}
	try(n, []int{4}, "Mean")
	try(layerNormNode(-1, 0, false), []int{3}, "normalised shape")
	try(layerNormNode(2, 0, false), []int{4}, "out of range")
	try(layerNormNode(-1, -1, false), []int{4}, "epsilon")
	// Unnamed optional outputs are fine.
	n = layerNormNode(-1, 0, false)
	n.Outputs = []string{"y", "", ""}
	params := map[string]*graph.Tensor{"scale": graph.NewFloat([]int{4}, []float32{1, 1, 1, 1})}
	g := opGraph(17, n, map[string]*graph.Tensor{"x": x}, params)
	g.Outputs = g.Outputs[:1]
	m, err := New(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(map[string]*graph.Tensor{"x": x}); err != nil {
		t.Fatal(err)
	}
}
