package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/deepcompress/deepcompress/graph"
)

// TestRowScalar checks the row-by-row path of binary operators (one
// operand a value per row of the other, either side, trailing ones)
// against the definition.
func TestRowScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		for _, sh := range [][2][]int{
			{{2, 3, 4, 5}, {2, 3, 1, 1}},
			{{2, 3, 1, 1}, {2, 3, 4, 5}},
			{{3, 7}, {3, 1}},
			{{2, 3, 4}, {2, 1, 1}},
		} {
			a, b := randTensor(rng, sh[0]...), randTensor(rng, sh[1]...)
			n := graph.Node{Name: "op", Op: op, Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
			m, err := New(opGraph(17, n, map[string]*graph.Tensor{"a": a, "b": b}, nil), Options{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.ProgramFor(map[string][]int{"a": a.Shape, "b": b.Shape})
			if err != nil {
				t.Fatal(err)
			}
			if k := p.steps[0].k.(*binaryKernel); k.inner == 0 {
				t.Fatalf("%s %v: not computed by rows", op, sh)
			}
			out, err := p.Run(map[string]*graph.Tensor{"a": a, "b": b})
			if err != nil {
				t.Fatal(err)
			}
			y := out["y"].F
			big, small := a, b
			if len(a.F) < len(b.F) {
				big, small = b, a
			}
			inner := len(big.F) / len(small.F)
			for i := range y {
				x, s := big.F[i], small.F[i/inner]
				l, r := x, s
				if big == b {
					l, r = s, x
				}
				var want float32
				switch op {
				case "Add":
					want = l + r
				case "Sub":
					want = l - r
				case "Mul":
					want = l * r
				case "Div":
					want = l / r
				}
				if y[i] != want {
					t.Fatalf("%s %v: y[%d] = %g, want %g", op, sh, i, y[i], want)
				}
			}
		}
	}
}
