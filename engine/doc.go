// Package engine runs a graph.Graph: forward for inference, and forward
// plus backward for training, on NCHW float32 tensors with a batch of any
// size.
//
// A Model holds a graph and its parameters. Running it binds the symbolic
// dimensions of the graph's inputs from the tensors given, then compiles a
// Program for those shapes (cached): shape inference node by node, constant
// folding of everything that does not depend on the inputs (the
// Shape/Gather/Concat arithmetic exporters emit around Reshape), kernel
// selection and buffer allocation, all checked against a memory limit
// before anything is allocated. Operator semantics are those of the ONNX
// operator set the graph names (https://onnx.ai/onnx/operators/); Ops lists
// the operators implemented.
//
// For inference, a BatchNormalization that follows a Conv is folded into
// the Conv's weights and bias at compile time, residual Adds and
// activations after a Conv are fused into it (fuse.go), and a large batch
// runs as micro-batches, one stream per core, when no step mixes samples
// (split.go). For training nothing is
// folded, BatchNormalization uses its running statistics (frozen, as when
// fine-tuning a pretrained network) and learns its scale and bias, and
// Backward accumulates dL/dparam for every trainable parameter.
package engine
