// Package onnx reads and writes models in the ONNX format (Open Neural
// Network Exchange, https://onnx.ai) in two forms: any operator graph as a
// graph.Graph, and layer chains as an arch.Spec.
//
// # Graphs
//
// ImportGraph (ImportGraphFile, GraphFromModel) keeps the model as it is:
// every node with its operator type, domain, name, inputs, outputs and
// attributes (INT, FLOAT, STRING, INTS, FLOATS, STRINGS, TENSOR; subgraphs
// and sparse tensors are refused), the initializers and the values of
// Constant nodes as graph parameters (float32, or int64 for integer and
// boolean tensors; FLOAT16, BFLOAT16 and DOUBLE converted to float32), the
// inputs and outputs with their symbolic dimensions, the default operator
// set (versions 7 to 21) and the model's metadata. The graph is validated
// (graph.Graph.Order) in time linear in its size. The importer is built for
// hostile files: every size is checked against the data actually present
// and against the memory budget (package budget) before allocating, error
// messages stay short whatever the names in the file, and external data is
// refused without opening any path.
//
// ExportGraph (ExportGraphFile, ModelFromGraph) writes a graph back:
// parameters as raw_data initializers in name order, attributes in name
// order, deterministic bytes, so that export -> import gives an equal
// graph and import -> export -> import the graph first imported.
//
// # Layer chains
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
// dimension "N", input "input" and output "logits". It describes the same
// graph as ExportGraph(graph.FromSpec(spec, weights)) but keeps its own
// byte layout (initializers in parameter order, pool attributes in their
// historical order), so that the files it writes stay byte for byte those
// it always wrote.
//
// The protobuf bindings live in package onnxpb, generated from the
// project's own schema of the ONNX messages it needs; fields that schema
// does not declare survive a decode/encode round trip as unknown fields.
package onnx
