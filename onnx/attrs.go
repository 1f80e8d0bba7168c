package onnx

import (
	"fmt"
	"slices"

	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// attrs are a node's attributes by name.
type attrs map[string]*onnxpb.AttributeProto

// nodeAttrs collects the attributes of n, refusing any whose name is not in
// known: an ignored attribute could silently change the computation.
func nodeAttrs(n *onnxpb.NodeProto, known ...string) (attrs, error) {
	a := attrs{}
	for _, at := range n.GetAttribute() {
		name := at.GetName()
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("attribute %q is not supported", name)
		}
		if _, dup := a[name]; dup {
			return nil, fmt.Errorf("duplicate attribute %q", name)
		}
		a[name] = at
	}
	return a, nil
}

// typed checks the declared type of attribute at, when there is one (old
// IR versions left it out).
func typed(at *onnxpb.AttributeProto, want onnxpb.AttributeProto_AttributeType) error {
	if at.Type != nil && at.GetType() != want {
		return fmt.Errorf("attribute %q has type %s, want %s", at.GetName(), at.GetType(), want)
	}
	return nil
}

func (a attrs) int(name string, def int64) (int64, error) {
	at, ok := a[name]
	if !ok {
		return def, nil
	}
	return at.GetI(), typed(at, onnxpb.AttributeProto_INT)
}

func (a attrs) float(name string, def float32) (float32, error) {
	at, ok := a[name]
	if !ok {
		return def, nil
	}
	return at.GetF(), typed(at, onnxpb.AttributeProto_FLOAT)
}

func (a attrs) str(name, def string) (string, error) {
	at, ok := a[name]
	if !ok {
		return def, nil
	}
	return string(at.GetS()), typed(at, onnxpb.AttributeProto_STRING)
}

// ints returns an INTS attribute, or def when absent.
func (a attrs) ints(name string, def []int64) ([]int64, error) {
	at, ok := a[name]
	if !ok {
		return def, nil
	}
	return at.GetInts(), typed(at, onnxpb.AttributeProto_INTS)
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_INT.Enum(), I: &v}
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_FLOAT.Enum(), F: &v}
}

func intsAttr(name string, v ...int) *onnxpb.AttributeProto {
	ints := make([]int64, len(v))
	for i, x := range v {
		ints[i] = int64(x)
	}
	return &onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ints}
}
