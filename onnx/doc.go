// Package onnx imports and exports feed-forward networks in the ONNX format
// (Open Neural Network Exchange, https://onnx.ai, IR version 7, default
// operator set 13), mapping ONNX graphs onto arch.Spec so that an imported
// model is evaluated, fine-tuned and compressed like a native one.
//
// Import accepts a chain of these operators, each node consuming the
// previous node's output, every other input being a constant (an
// initializer or a Constant node):
//
//	Gemm                 y = alpha*A*B' + beta*C  -> dense (transA = 0 only)
//	MatMul [+ Add]       y = x*W + b, W [in, out] -> dense, W transposed
//	Conv                 2-D, group 1, dilation 1 -> conv2d
//	MaxPool, AveragePool 2-D, ceil_mode 0         -> maxpool, avgpool
//	Relu, Softmax        last axis                -> relu, softmax
//	Flatten              axis 1                   -> flatten
//	Reshape              constant shape [N, -1]   -> flatten (or nothing)
//	Dropout              ratio kept for training  -> dropout
//	Identity                                      -> nothing
//
// Weights become arch layouts: dense [out, in], conv [outC, inC, kh, kw],
// with alpha and beta folded in. Only float32 initializers stored in the
// model (raw_data or float_data) are read; external data is refused.
//
// Export writes the inverse mapping (dense as Gemm with transB = 1, weights
// "<layer>.weight" and "<layer>.bias" in raw_data), with a dynamic batch
// dimension "N", input "input" and output "logits".
//
// The protobuf bindings live in package onnxpb, generated from the
// project's own schema of the ONNX messages it needs; fields that schema
// does not declare survive a decode/encode round trip as unknown fields.
package onnx
