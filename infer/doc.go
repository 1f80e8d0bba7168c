// Package infer runs a network compressed by Deep Compression (Han, Mao,
// Dally, ICLR 2016) directly from its compressed form. The paper measured
// its speedups on pruned layers with dense-vs-sparse BLAS only, because
// BLAS cannot look weights up in a codebook, and left shared-weight
// inference to custom hardware (EIE, Han et al., ISCA 2016). This package
// does it in software: a .dcz file is loaded into a model that keeps, for
// every pruned, weight-shared layer, its codebook, the codebook index of
// every survivor and the survivors' positions, and computes from those.
//
// # In memory
//
// A weight W [rows, cols] (a convolution's [outC, inC, kh, kw] read as
// outC x inC*kh*kw) is stored per row, like CSR, with the paper's
// relative indexing: each entry is a uint16 holding the column step from
// the previous survivor (1..255, low byte) and the codebook index (high
// byte). A step over 255 columns takes filler entries that point at a zero
// placed after the codebook, so kernels need no branch for them. A
// survivor costs two bytes; the codebook (at most 256 float32) stays in
// L1. Codebooks of more than 256 entries, or of 256 when fillers are
// needed, use four-byte entries and the portable kernels. Loaded from its
// .dcz file, LeNet-300-100 holds 1.8 times the file's size on the heap
// (TestMemory: 42,224 bytes for the 23,357-byte pipeline model).
//
// # Kernels
//
// A fully connected layer is y = W*x + b with, per row,
// y[r] = b[r] + sum over survivors e of codebook[idx_e] * x[col_e].
//
// At batch 1 that is one pass over the entries: the batch-1 kernel moves
// a pointer into x by each step, loads the codebook value and does a
// scalar fused multiply-add, on four accumulators: FMA3 assembly on amd64
// (7.3 µs for LeNet-300-100's fc1 on AMD Zen 4, one core), plain Go
// elsewhere (15.7 µs). Two alternatives lost on that layer: an AVX-512
// kernel that prefix-sums sixteen steps and gathers x (no faster on long
// rows, whose gathers Zen 4 microcodes, 1.5 times slower on short ones),
// and summing x into one bin per codebook entry before a single dot
// product with the codebook per row (20.7 µs in Go with 6-bit codebooks,
// 16.4 with 4-bit: a bin update is a load and a store where the direct
// form has one multiply-add).
//
// With more samples, activations are stored feature-major, [features][n],
// and a layer is Y [rows, n] = b + W*X with X [cols, n]: each survivor
// broadcasts its codebook value and multiplies-adds it with a whole row of
// X, up to 128 lanes per pass in AVX-512 registers (the last vector
// masked). Images are stored [C][H][W][n] in the same way, so flattening
// moves nothing, and a convolution is the same product on the unfolded
// input [inC*kh*kw][oh*ow*n], whose lanes are the samples' output pixels.
//
// Rows are split between GOMAXPROCS goroutines, with equal numbers of
// entries per part, when a product has enough work to pay for waking a
// helper: batched products, and at batch 1 large layers such as VGG-16's
// fc6 (LeNet-300-100's fc1 at batch 1 stays on one core).
//
// # Convolutions: sparse or decoded
//
// A convolution weight could also be decoded once to dense float32 and
// run by im2col and GEMM (package gemm). Measured (BenchmarkConv), the
// sparse product costs about 4.7 times as much per multiply-add as the
// GEMM on a large layer (VGG-16 conv4_2, 512 x 4608 weights, 784 output
// pixels; same ratio on Intel Xeon and AMD Zen 4), every survivor
// reloading its row of the unfolded input where GEMM reuses register
// tiles: the two break even near 20% density (sparse 17.8 ms against
// 23.6 ms at 15%, 27.8 against 21.9 at 27%). So a large convolution runs
// decoded when more than 20% of its weights survive; smaller ones, below
// 4M multiply-adds per sample, stay sparse at any density, since there
// GEMM's packing dominates: LeNet-5's conv1 (66% kept) and conv2 (12%)
// ran 2.6 to 7.3 times faster sparse at batch 1, 8 and 64.
//
// # Speed
//
// BenchmarkLayer, Intel Xeon (Sapphire Rapids class), two cores, wall
// time per product; the dense baseline is the faster of gemm.Sgemm (which
// won everywhere) and a plain eight-accumulator loop:
//
//	layer                         batch  sparse-shared  dense float32  speedup
//	lenet300 fc1 (300x784, 8%,       1       14.3 µs       103.7 µs      7.3x
//	  6-bit, trained weights)        8       25.7 µs       103.8 µs      4.0x
//	                                64       48.0 µs       296.6 µs      6.2x
//	VGG-16 fc6 (4096x25088, 4%,      1       2.45 ms       45.1 ms      18.4x
//	  5-bit)                         8       5.04 ms       42.9 ms       8.5x
//	                                64       19.6 ms      101.9 ms       5.2x
//
// # Use
//
// A Model is safe for concurrent use: each call takes its buffers from a
// sync.Pool, so PredictBatch allocates nothing in steady state. Predict
// allocates only the slice it returns. Wrong input sizes give an
// *InputSizeError.
//
//	m, err := infer.Load(f) // a .dcz stream
//	x, err := infer.ImageInput(img, infer.MNISTMean, infer.MNISTStd)
//	logits, err := m.Predict(x)
//	infer.Softmax(p, logits)
package infer
