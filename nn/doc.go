// Package nn is a small float32 neural-network engine: the layers that
// LeNet-300-100 and LeNet-5 need (dense, conv2d, max- and average-pool,
// ReLU, flatten, dropout, softmax), softmax cross-entropy, and SGD with
// momentum, L2/L1 weight decay and per-weight masks.
//
// Activations are row-major with the batch first: [N, features] or
// [N, C, H, W]. Parameters use PyTorch layouts (dense W [out, in],
// y = W*x + b; conv W [outC, inC, kh, kw]) so that checkpoints, ONNX files
// and compressed files all agree. A Model is built from an arch.Spec; every
// parameter is reachable by name with its gradient and an optional mask,
// which is what pruning and weight sharing act on.
//
// A Model is not safe for concurrent use: it owns the activation buffers
// that forward and backward passes reuse, so a training step allocates
// nothing once the batch size is settled.
package nn
