// Package datafree compresses large models stored as safetensors files
// without training data: Deep Compression (Han, Mao, Dally, ICLR 2016)
// with its retraining steps left out. Each weight tensor is pruned by
// magnitude (section 2: the weights with |w| below a per-tensor threshold
// are removed), its survivors are shared among 2^b values by 1-D k-means
// (section 3, package quantize), and the result is Huffman coded into a
// tensors-only .dcz file (section 4, package dcz), whose decoded form is
//
//	W[p] = codebook[idx(p)] for a surviving position p, 0 elsewhere.
//
// Small tensors (biases, norms, anything of rank 1 or below a size
// threshold) are stored as float32, unchanged.
//
// The work streams: memory holds the survivors of a few tensors at a time,
// not the model. A tensor is read from the input file in chunks, twice:
// once for a histogram of its magnitudes, from which the threshold keeping
// a given fraction is found exactly by radix selection on the float bits
// (or, for a quality rule, its standard deviation), and once to collect the
// survivors. Tensors are processed on several goroutines, a large one also
// split across them, and written in input order; a byte budget bounds the
// tensors in flight. Decoding streams the same way, one tensor at a time.
//
// CompressGraph does the same for a whole network graph (an ONNX model,
// compress --data-free --model M.onnx): its weights (Conv, ConvTranspose,
// Gemm, MatMul operands) by the same rules, every other float parameter
// as float32, into a version 2 .dcz file that keeps the graph. There a
// weight whose coded section would be larger is stored float32, Grid
// "uniform" replaces k-means by evenly spaced shared values, and FitGraph
// (Options.MaxBytes) picks the bits and grid of each weight to fit a byte
// limit, such as the size of plain per-tensor int8 (Int8Baseline).
package datafree
