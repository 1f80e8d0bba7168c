package graph

import (
	"cmp"
	"fmt"

	"github.com/deepcompress/deepcompress/arch"
)

// Names of the input and output of a graph built from an arch.Spec (the
// names onnx.Export has always written).
const (
	SpecInput  = "input"
	SpecOutput = "logits"
	// BatchDim names the symbolic batch dimension of such a graph.
	BatchDim = "N"
	// SpecOpset is the operator set such a graph uses.
	SpecOpset = 13
)

// FromSpec builds the graph of a layer chain: dense layers become Gemm
// (transB = 1, weight [out, in]), conv2d Conv, pools MaxPool/AveragePool,
// dropout a Dropout with a constant ratio, and the parameters are named
// "<layer>.weight" and "<layer>.bias". weights, which must hold exactly the
// spec's parameters, become the graph's parameters (not copied); nil
// weights build the graph without parameters.
func FromSpec(spec arch.Spec, weights map[string][]float32) (*Graph, error) {
	shapes, err := spec.Shapes()
	if err != nil {
		return nil, err
	}
	params, err := spec.Params()
	if err != nil {
		return nil, err
	}
	g := &Graph{
		Name:   cmp.Or(spec.Name, "deepcompress"),
		Opset:  SpecOpset,
		Params: map[string]*Tensor{},
		Meta:   Meta{IRVersion: 7, ProducerName: "deepcompress"},
	}
	if weights != nil {
		if err := checkSpecWeights(params, weights); err != nil {
			return nil, err
		}
		for _, p := range params {
			g.Params[p.Name] = NewFloat(p.Shape, weights[p.Name])
		}
	}
	used := map[string]bool{SpecInput: true, SpecOutput: true}
	for _, p := range params {
		used[p.Name] = true
	}
	cur := SpecInput
	for i, l := range spec.Layers {
		name := unique(used, cmp.Or(l.Name, fmt.Sprintf("%s_%d", l.Kind, i)))
		out := SpecOutput
		if i < len(spec.Layers)-1 {
			out = unique(used, name+"_output")
		}
		n := Node{Name: name, Inputs: []string{cur}, Outputs: []string{out}, Attrs: map[string]Attr{}}
		if err := specNode(g, &n, l, used); err != nil {
			return nil, fmt.Errorf("graph: layer %d (%s): %w", i, l.Kind, err)
		}
		g.Nodes = append(g.Nodes, n)
		cur = out
	}
	g.Inputs = []Value{specValue(SpecInput, spec.Input)}
	g.Outputs = []Value{specValue(SpecOutput, shapes[len(shapes)-1])}
	return g, nil
}

func specNode(g *Graph, n *Node, l arch.Layer, used map[string]bool) error {
	withParams := func() {
		n.Inputs = append(n.Inputs, l.Name+".weight")
		if !l.NoBias {
			n.Inputs = append(n.Inputs, l.Name+".bias")
		}
	}
	st := l.StrideOrDefault()
	window := func() {
		n.Attrs["kernel_shape"] = Ints(int64(l.Kernel[0]), int64(l.Kernel[1]))
		n.Attrs["pads"] = Ints(int64(l.Pad[0]), int64(l.Pad[1]), int64(l.Pad[0]), int64(l.Pad[1]))
		n.Attrs["strides"] = Ints(int64(st[0]), int64(st[1]))
	}
	switch l.Kind {
	case arch.Dense:
		n.Op = "Gemm"
		withParams()
		n.Attrs["alpha"], n.Attrs["beta"], n.Attrs["transB"] = Float(1), Float(1), Int(1)
	case arch.Conv2D:
		n.Op = "Conv"
		withParams()
		window()
		n.Attrs["dilations"], n.Attrs["group"] = Ints(1, 1), Int(1)
	case arch.MaxPool:
		n.Op = "MaxPool"
		window()
	case arch.AvgPool:
		n.Op = "AveragePool"
		window()
		n.Attrs["count_include_pad"] = Int(0)
	case arch.ReLU:
		n.Op = "Relu"
	case arch.Flatten:
		n.Op = "Flatten"
		n.Attrs["axis"] = Int(1)
	case arch.Softmax:
		n.Op = "Softmax"
		n.Attrs["axis"] = Int(-1)
	case arch.Dropout:
		n.Op = "Dropout"
		ratio := unique(used, n.Name+".ratio")
		g.Params[ratio] = NewFloat(nil, []float32{l.Rate})
		n.Inputs = append(n.Inputs, ratio)
	default:
		return fmt.Errorf("layer kind %q has no graph mapping", l.Kind)
	}
	return nil
}

func checkSpecWeights(params []arch.ParamInfo, weights map[string][]float32) error {
	for _, p := range params {
		w, ok := weights[p.Name]
		if !ok {
			return fmt.Errorf("graph: no values for parameter %s", p.Name)
		}
		if len(w) != p.Size() {
			return fmt.Errorf("graph: parameter %s has %d values, want %d", p.Name, len(w), p.Size())
		}
	}
	if len(weights) != len(params) {
		return fmt.Errorf("graph: %d tensors given for %d parameters", len(weights), len(params))
	}
	return nil
}

func specValue(name string, sample []int) Value {
	v := Value{Name: name, DType: Float32, Shape: []Dim{{Size: -1, Param: BatchDim}}}
	for _, d := range sample {
		v.Shape = append(v.Shape, Dim{Size: d})
	}
	return v
}

// unique returns name, or name with a numeric suffix, such that it is not
// in used, and marks it used.
func unique(used map[string]bool, name string) string {
	cand := name
	for i := 1; used[cand]; i++ {
		cand = fmt.Sprintf("%s_%d", name, i)
	}
	used[cand] = true
	return cand
}
