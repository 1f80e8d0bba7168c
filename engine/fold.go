package engine

import (
	"math"

	"github.com/deepcompress/deepcompress/graph"
)

// foldBatchNorm returns g with every BatchNormalization that directly
// follows a Conv (whose output nothing else reads) folded into that Conv:
// with s = scale / sqrt(var + eps),
//
//	W'[o,...] = W[o,...] * s[o],   b'[o] = (b[o] - mean[o]) * s[o] + B[o].
//
// The folded weights are new parameters; g itself is not changed. It
// returns g when there is nothing to fold.
func foldBatchNorm(g *graph.Graph) *graph.Graph {
	readers := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	for _, v := range g.Outputs {
		readers[v.Name]++
	}
	producer := map[string]int{}
	for i, n := range g.Nodes {
		if n.Op == "Conv" && n.Domain == "" && len(n.Outputs) == 1 {
			producer[n.Outputs[0]] = i
		}
	}
	var out *graph.Graph
	drop := map[int]bool{}
	for i, n := range g.Nodes {
		if n.Op != "BatchNormalization" || len(n.Inputs) != 5 || len(n.Outputs) < 1 {
			continue
		}
		ci, ok := producer[n.Inputs[0]]
		if !ok || readers[n.Inputs[0]] != 1 || !foldableBN(g, &n, &g.Nodes[ci]) {
			continue
		}
		if out == nil {
			out = shallowCopy(g)
		}
		foldInto(out, ci, &n)
		drop[i] = true
	}
	if out == nil {
		return g
	}
	kept := out.Nodes[:0]
	for i, n := range out.Nodes {
		if !drop[i] {
			kept = append(kept, n)
		}
	}
	out.Nodes = kept
	return out
}

// foldableBN checks that the BatchNormalization's operands are constant
// per-channel vectors matching the Conv's output channels.
func foldableBN(g *graph.Graph, bn, conv *graph.Node) bool {
	w := g.Params[conv.Input(1)]
	if w == nil || w.DType != graph.Float32 || len(w.Shape) < 2 {
		return false
	}
	if b := conv.Input(2); b != "" && (g.Params[b] == nil || g.Params[b].DType != graph.Float32) {
		return false
	}
	if len(bn.Outputs) > 1 && bn.Outputs[1] != "" { // training-mode outputs
		return false
	}
	for _, name := range bn.Inputs[1:] {
		p := g.Params[name]
		if p == nil || p.DType != graph.Float32 || len(p.F) != w.Shape[0] {
			return false
		}
	}
	return true
}

// foldInto rewrites Conv node ci of out to compute the BatchNormalization
// bn too, and makes it write bn's output.
func foldInto(out *graph.Graph, ci int, bn *graph.Node) {
	conv := out.Nodes[ci]
	eps, _ := bn.AttrFloat("epsilon", 1e-5)
	w := out.Params[conv.Input(1)]
	scale, shift := out.Params[bn.Inputs[1]].F, out.Params[bn.Inputs[2]].F
	mean, variance := out.Params[bn.Inputs[3]].F, out.Params[bn.Inputs[4]].F
	oc := w.Shape[0]
	per := len(w.F) / oc
	nw := make([]float32, len(w.F))
	nb := make([]float32, oc)
	var bias []float32
	if b := conv.Input(2); b != "" {
		bias = out.Params[b].F
	}
	for o := range oc {
		s := scale[o] / float32(math.Sqrt(float64(variance[o])+float64(eps)))
		for k := range per {
			nw[o*per+k] = w.F[o*per+k] * s
		}
		b := float32(0)
		if bias != nil {
			b = bias[o]
		}
		nb[o] = (b-mean[o])*s + shift[o]
	}
	wName, bName := conv.Input(1)+"#bn-folded", conv.Input(1)+"#bn-folded.bias"
	out.Params[wName] = graph.NewFloat(w.Shape, nw)
	out.Params[bName] = graph.NewFloat([]int{oc}, nb)
	conv.Inputs = []string{conv.Inputs[0], wName, bName}
	conv.Outputs = []string{bn.Outputs[0]}
	out.Nodes[ci] = conv
}

// shallowCopy copies the graph's node list and parameter map (not the
// tensors), so that nodes and parameters can be replaced.
func shallowCopy(g *graph.Graph) *graph.Graph {
	c := *g
	c.Nodes = make([]graph.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		n.Inputs = append([]string(nil), n.Inputs...)
		n.Outputs = append([]string(nil), n.Outputs...)
		c.Nodes[i] = n
	}
	c.Params = make(map[string]*graph.Tensor, len(g.Params)+8)
	for k, v := range g.Params {
		c.Params[k] = v
	}
	return &c
}
