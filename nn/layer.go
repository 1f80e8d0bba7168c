package nn

// layer is one step of a Model. forward's result and backward's result are
// buffers owned by the layer, valid until its next call.
type layer interface {
	forward(x *Tensor, train bool) *Tensor
	// backward takes dL/dy and returns dL/dx, or nil when the layer was told
	// its input needs no gradient (the first layer of a network).
	backward(dy *Tensor) *Tensor
	params() []*Param
	setNeedInputGrad(bool)
}

// noParams is embedded by layers without parameters.
type noParams struct{}

func (noParams) params() []*Param { return nil }

// inputGrad records whether backward must produce dL/dx.
type inputGrad struct{ needDX bool }

func (g *inputGrad) setNeedInputGrad(b bool) { g.needDX = b }
