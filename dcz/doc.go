// Package dcz reads and writes .dcz files: a whole network compressed by
// Deep Compression (Han, Mao, Dally, ICLR 2016) in one file. Each pruned,
// weight-shared layer is stored as in section 4 of the paper: its codebook
// of shared float32 (or float16) values, the codebook index of every
// surviving weight and the relative position of every survivor (package
// sparse), both index streams Huffman coded (package huffman); other
// tensors are stored raw, float32 or float16 (see Precision). The network description
// (arch.Spec) travels in the file, so a model can be rebuilt and run from
// the file alone; a tensors-only file (see TensorsOnly) holds named tensors
// without one. Every section carries a CRC-32C.
//
// The byte layout is specified in docs/FORMAT.md. In short:
//
//	file    = magic "\x89DCZ", version 1, spec section, tensor sections, end section
//	section = type byte, uvarint body length, body, CRC-32C (little endian)
//
// Readers never panic on bad input and size every allocation from bytes
// actually present: counts and lengths in headers are checked against the
// remaining input first. Errors are *FormatError values that name the file
// offset and what is wrong, and match ErrFormat with errors.Is.
//
// For large models the Encoder writes one tensor at a time, and
// Encoder.EncodeLayer may run on several goroutines; the Decoder reads one
// section at a time, and Frame.Decode may run on several goroutines.
package dcz
