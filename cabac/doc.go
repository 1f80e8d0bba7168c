// Package cabac codes the pruned, weight-shared tensors of Deep
// Compression with context-adaptive binary arithmetic coding, the method
// of DeepCABAC (Wiedemann et al., "DeepCABAC: A universal compression
// algorithm for deep neural networks", IEEE JSTSP 2020), which became the
// entropy coder of MPEG-7 part 17, Neural Network Representation (NNR,
// ISO/IEC 15938-17). It is the alternative to package huffman's coding of
// relative indices and codebook indices proposed in issue 16.
//
// # The tensor model
//
// A tensor is a rows x cols matrix (a convolution kernel [out, in, kh, kw]
// is viewed as [out, in*kh*kw]) whose every position is either pruned or
// holds the index of a shared value in a codebook of m entries. Positions
// are visited row by row and each is coded as a sequence of binary
// decisions (bins), each with an adaptive probability chosen by its
// context:
//
//  1. The significance flag (is the weight kept?). Its context is the
//     density so far of the position's column: with c non-zeros in the r
//     rows above, the class of (2c+1)/(2r+2) in half octaves from 1 down to
//     2^-5.5 (12 classes; the sparsest holds columns empty so far, such as
//     the border pixels that LeNet-300-100's fc1 never reads). Optionally
//     (a profile bit) also the flags of the left and upper neighbours,
//     0..2, which pays on layers that read images.
//  2. For a kept weight, its codebook index, b = ceil(log2 m) bits: the
//     top min(b, 8) bits through a binary tree with one context per node,
//     the rest as bypass bins (probability 1/2). Optionally (a profile
//     bit) one of five trees: four for a kept left neighbour, chosen by
//     the top two bits of its index, one for a pruned one. Weights side
//     by side tend to be alike; on LeNet-300-100's fc1 this saves 4 % of
//     the index bits.
//
// No sign is coded: the codebook holds signed values. The index is not
// binarised as DeepCABAC binarises integer levels (unary greater-than
// flags, then an Exp-Golomb remainder in bypass bins), nor remapped by
// frequency rank first: k-means codebook indices are spread over all
// clusters, not concentrated on small magnitudes as uniformly quantized
// levels are. On LeNet-300-100's fc1 (6-bit indices, order-0 entropy 8,805
// bytes) an adaptive frequency rank coded with 15 context-coded
// greater-than flags and an Exp-Golomb remainder took 9,586 bytes, the
// tree 8,742. A tree with a context per node is a complete adaptive model
// of any distribution over 2^b values and codes each index in b bins.
//
// # The coder
//
// The engine is a binary range coder with a 32-bit range, carries
// propagated through a cached byte (as in LZMA), and 16-bit probabilities
// multiplied exactly, not the M-coder of H.264/HEVC CABAC, whose 9-bit
// range and 64-state table of quantized sub-ranges were designed to spare
// hardware a multiplier; on a CPU the multiplication is free and the
// coder comes within 0.5 % (usually 0.1 %) of the model's ideal code
// length. Each
// context keeps two estimates of P(bin = 0) that move 2^-f and 2^-s of the
// way to each bin's value, and codes with their mean: the two-rate
// estimator of VVC and NNR. Streams choose (f, s) from (3, 7), (4, 7),
// (5, 8) and (7, 11), separately for significance and index bins: trained
// layers change along the scan and like quick adaptation, big random ones
// like slow. The estimates have 31 bits (VVC's have 15), so that even the
// slowest still reaches probabilities near 0 and 1: with 15 bits an
// estimate that moves 2^-10 of the way per bin stops at 2^-5 from them,
// which cost about 1 % on 4 %-dense layers.
//
// # The gap profile
//
// Coding a bin per position costs time on big pruned layers: fc6 of
// VGG-16 has 103 M positions and 4 M kept weights. The gap profile
// (profile byte 0x40) codes instead, for each kept weight, the run of
// pruned positions before it and its index, each one symbol of an
// adaptive frequency table (counts with the Krichevsky-Trofimov estimate,
// turned into 16-bit frequencies after 16, 48, 112, ... symbols, then
// every 8,192), decoded with one division, one table lookup and one
// multiplication; runs of 32 or more are a symbol for their top three
// bits and uniform low bits, indices wider than 8 bits a symbol for their
// top 8. Runs alternate between two range coders and indices go round
// four more (the stream starts with the lengths of the first five), so a
// decoder's serially dependent steps run several at a time. The encoder
// takes it unless the per-position profiles promise to save more than
// 0.1 %: on random (data-free) layers it is also 0.1-0.3 % smaller, on
// trained layers with structure across rows (LeNet-300-100's empty input
// columns) and on small ones the contexts win.
//
// # Stream layout
//
//	1 byte    profile: bits 0-1 the significance rates, bits 2-3 the index
//	          rates (indices into the list above), bit 4 neighbour contexts
//	          for significance, bit 5 left-neighbour trees for the index,
//	          bits 6-7 zero; or 0x40, the gap profile
//	rest      the range coder's bytes; in the gap profile five uvarint
//	          lengths and six coders' bytes
//
// Shape and codebook size are not stored: the container knows them. The
// encoder picks the profile by coding the first 2^16 positions, or 1/32 of
// the tensor if more, with each candidate, extrapolating each cost to the
// whole tensor from its second half, and keeping the cheapest. The range coder ends with the value
// of its final interval that has the most trailing zero bits, in 4 bytes,
// and drops those of them that are zero (at least 3; the decoder reads
// zeros past the end). Decoding must use every byte, miss at most those 4,
// and find exactly that value at the end; so an accepted stream is the
// one the encoder writes for the tensor and profile it decodes to. A tensor with no positions or an empty
// codebook (m = 0: nothing may be kept) is the profile byte alone.
//
// # Guarantees
//
// Decoding never panics and never reads outside its input; its work is
// bounded by the input too (b bytes cannot hold more than (b+1)*2^19
// positions in a per-position profile, nor more than (b+2)*363,405 runs
// in the gap profile: each bin or symbol takes at least 2.2e-5 bits). It rejects
// reserved profile bits, a first code value outside the range, an index
// at or past m, bytes after the coded data, a stream more than 4 bytes
// short and a tail the encoder would not have written. An arithmetic code
// has little redundancy: these checks catch most but not all corrupted
// streams (895 of the 904 single-bit flips of a 113-byte stream), which
// is the container checksum's job. Memory is the decoded output (at most rows*cols
// non-zeros, sizes the caller gives) plus one counter pair per column and
// at most 1,316 contexts, or in the gap profile a copy of the stream and
// two tables of at most 256 symbols.
//
// Bound returns the ideal code length under the model (the sum over bins
// of -log2 of the probability the model gave the coded value, the
// context bound), which benchmarks compare with the stream; the coder's
// rounding of the range can make a stream a few bytes shorter or longer.
//
// # Performance
//
// bench/coders (see its README) compares cabac with the Huffman path on
// real files. Bytes of the weight tensors: LeNet-300-100 at the paper's
// settings 20,206 against 22,170 (-8.9 %; fc1 -9.7 %), a 3-bit 2.5/5/15 %
// LeNet-300-100 7,123 against 7,909 (-9.9 %), the VGG-16-shaped
// data-free file 13,201,878 against 13,290,628 (-0.67 %); smaller on
// every tensor. Speed against the Huffman path, CPU time on a loaded
// 2-core machine: on the VGG-16-shaped file, whose tensors from conv3_1
// on take the gap profile, decoding 1.79-1.84x and encoding 2.3-2.6x
// (three runs of bench/coders_table.sh; the per-position profiles alone:
// 14.6x and 12.4x); on LeNet-300-100 and LeNet-5, whose tensors keep the
// per-position profiles, decoding 10-12.5x and encoding 21-27x (one bin
// per position and 6 per kept weight, each a dependent multiply, compare
// and state update). LeNet-5 at the paper's settings: 36,442 against
// 38,806 bytes (-6.1 %).
package cabac
