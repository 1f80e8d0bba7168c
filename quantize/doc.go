// Package quantize implements trained quantization by weight sharing, the
// second stage of Deep Compression (Han, Mao, Dally, ICLR 2016, section 3):
// each layer's surviving weights are clustered by 1-D k-means into k = 2^b
// shared values, and every weight keeps only its b-bit cluster index.
package quantize
