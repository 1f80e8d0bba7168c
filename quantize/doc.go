// Package quantize implements trained quantization by weight sharing, the
// second stage of Deep Compression (Han, Mao, Dally, ICLR 2016, section 3):
// each layer's surviving weights are clustered by 1-D k-means into k = 2^b
// shared values, and every weight keeps only its b-bit cluster index.
// Options.Lambda makes the sharing rate-aware (entropy-constrained scalar
// quantization): each weight then goes to the shared value that minimises
// its squared error plus lambda times the code length of the value's
// index, so that the entropy-coded indices take fewer bits.
package quantize
