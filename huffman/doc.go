// Package huffman implements the entropy-coding stage of Deep Compression
// (Han, Mao, Dally, ICLR 2016, section 4): canonical, length-limited Huffman
// codes over small integer alphabets (codebook indices and sparse-index gaps).
//
// A code is built from symbol counts by package-merge (Larmore and
// Hirschberg, 1990), which gives the optimal prefix code whose longest
// codeword is at most L bits: among all codes with lengths l_i <= L and
// sum 2^-l_i <= 1 it minimises sum count_i * l_i. Codes are canonical
// (RFC 1951, section 3.2.2), so a block stores only the code lengths.
// Bits are packed least-significant bit first, as in DEFLATE.
//
// A block is self-delimiting: symbol count, code lengths and one or four
// bit streams (four interleaved streams decode faster on superscalar CPUs).
// The byte layout is documented in docs/FORMAT.md. Decoding is table driven:
// one lookup of the next L bits yields symbol and length; when all codewords
// have at most 12 bits, a second table yields up to two symbols per lookup.
//
// Decode never panics on bad input, and every allocation is bounded by the
// caller's limits and by the size of the input: each coded symbol takes at
// least one bit, so a block of b bytes holds at most 8*b symbols.
package huffman
