package graph

// WeightRef names a parameter that pruning and weight sharing act on: the
// kernel of a Conv or ConvTranspose, the B (or constant A) operand of a
// Gemm or MatMul. Biases, normalisation statistics and shape constants are
// left dense and unshared.
type WeightRef struct {
	Param string // parameter name
	Node  string // the node that reads it
	Op    string
	Conv  bool // a convolution kernel (the paper's conv layers), else a fully connected matrix
}

// weightInputs lists, per operator, which inputs hold weights.
var weightInputs = map[string][]int{
	"Conv":          {1},
	"ConvTranspose": {1},
	"Gemm":          {0, 1},
	"MatMul":        {0, 1},
}

// Weights lists the weight parameters in node order, each once (a weight
// read by several nodes is listed at its first reader). Only float
// parameters with at least two dimensions count.
func (g *Graph) Weights() []WeightRef {
	var out []WeightRef
	seen := map[string]bool{}
	for i, n := range g.Nodes {
		if n.Domain != "" {
			continue
		}
		for _, k := range weightInputs[n.Op] {
			name := n.Input(k)
			t := g.Params[name]
			if name == "" || seen[name] || t == nil || t.DType != Float32 || len(t.Shape) < 2 {
				continue
			}
			seen[name] = true
			out = append(out, WeightRef{Param: name, Node: g.Label(i), Op: n.Op, Conv: n.Op == "Conv" || n.Op == "ConvTranspose"})
		}
	}
	return out
}

// IsWeight reports whether the parameter called name is one of Weights.
func (g *Graph) IsWeight(name string) bool {
	for _, w := range g.Weights() {
		if w.Param == name {
			return true
		}
	}
	return false
}
