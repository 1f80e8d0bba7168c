package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// convBench times one Conv forward (and, with train, forward plus
// backward) and reports GFLOP/s counting 2 flops per multiply-add of the
// forward pass (3x that for forward plus backward).
func convBench(b *testing.B, n, c, h, w, m, group, k, stride int, train bool) {
	rng := rand.New(rand.NewPCG(1, 1))
	pad := int64(k / 2)
	node := graph.Node{Name: "conv", Op: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
		Attrs: map[string]graph.Attr{"group": graph.Int(int64(group)), "pads": graph.Ints(pad, pad, pad, pad),
			"strides": graph.Ints(int64(stride), int64(stride))}}
	x := randTensor(rng, n, c, h, w)
	inputs := map[string]*graph.Tensor{"x": x}
	params := map[string]*graph.Tensor{"w": randTensor(rng, m, c/group, k, k), "b": randTensor(rng, m)}
	mdl, err := New(opGraph(17, node, inputs, params), Options{Train: train})
	if err != nil {
		b.Fatal(err)
	}
	p, err := mdl.ProgramFor(map[string][]int{"x": x.Shape})
	if err != nil {
		b.Fatal(err)
	}
	out := p.OutputShape("y")
	dy := map[string]*graph.Tensor{"y": randTensor(rng, out...)}
	flops := 2 * float64(numel(out)) * float64(c/group*k*k)
	if train {
		flops *= 3
	}
	run := func() {
		if _, err := p.Run(inputs); err != nil {
			b.Fatal(err)
		}
		if train {
			if err := p.Backward(dy); err != nil {
				b.Fatal(err)
			}
		}
	}
	run()
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv(b *testing.B) {
	for _, tc := range []struct {
		name                        string
		n, c, h, w, m, group, k, st int
	}{
		{"3x3_32to32_14x14", 1, 32, 14, 14, 32, 1, 3, 1},
		{"3x3_32to32_14x14", 32, 32, 14, 14, 32, 1, 3, 1},
		{"dw3x3_64_14x14", 1, 64, 14, 14, 64, 64, 3, 1},
		{"dw3x3_64_14x14", 32, 64, 14, 14, 64, 64, 3, 1},
		{"dw3x3s2_64_28x28", 1, 64, 28, 28, 64, 64, 3, 2},
		{"dw5x5_64_14x14", 1, 64, 14, 14, 64, 64, 5, 1},
		{"1x1_64to128_7x7", 1, 64, 7, 7, 128, 1, 1, 1},
		{"1x1_64to128_7x7", 32, 64, 7, 7, 128, 1, 1, 1},
		{"3x3_64to64_56x56", 1, 64, 56, 56, 64, 1, 3, 1},
	} {
		for _, train := range []bool{false, true} {
			mode := "fwd"
			if train {
				mode = "train"
			}
			b.Run(fmt.Sprintf("%s_b%d_%s", tc.name, tc.n, mode), func(b *testing.B) {
				convBench(b, tc.n, tc.c, tc.h, tc.w, tc.m, tc.group, tc.k, tc.st, train)
			})
		}
	}
}
