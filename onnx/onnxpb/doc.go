// Package onnxpb holds the generated protobuf bindings of the ONNX messages
// deepcompress uses (onnx_subset.proto: ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
// OperatorSetIdProto, StringStringEntryProto), with the official ONNX field
// numbers.
package onnxpb

//go:generate sh gen.sh
