package huffman

import (
	"errors"
	"fmt"
)

// Format limits.
const (
	// MaxSymbols bounds the alphabet: symbols are 0..MaxSymbols-1. It covers
	// 16-bit codebook indices, and 16-bit gaps 0..2^16 plus a filler symbol.
	MaxSymbols = 1 << 17
	// MaxCodeLen is the longest codeword a block may use. 2^17 codewords of
	// 17 bits cover the largest alphabet.
	MaxCodeLen = 17
	// DefaultMaxLen is the encoder's length limit unless the alphabet needs
	// more (n used symbols need ceil(log2 n) bits). A 2^12-entry decoding
	// table stays in L1 cache; the loss against an unlimited Huffman code is
	// far below 0.1 % on bell-shaped and geometric distributions.
	DefaultMaxLen = 12
	// fourStreamMin is the block size from which Encode splits the symbols
	// into four interleaved streams by default. Below it the three extra
	// stream lengths cost more than the speed is worth.
	fourStreamMin = 4096
)

// Symbol is an integer type a block can be decoded into.
type Symbol interface {
	~uint8 | ~uint16 | ~uint32
}

// Options tune Encode. The zero value selects the defaults.
type Options struct {
	// MaxLen limits codeword lengths; 0 means DefaultMaxLen. It is raised
	// to ceil(log2(used symbols)) when the alphabet needs it and must not
	// exceed MaxCodeLen.
	MaxLen int
	// Streams is 1 or 4; 0 chooses 4 for blocks of at least 4096 symbols.
	Streams int
}

// ErrCorrupt is wrapped by every error Decode returns for malformed input.
var ErrCorrupt = errors.New("corrupt block")

// CorruptError reports malformed input: what is wrong and the byte offset
// in the block where it was found.
type CorruptError struct {
	Offset int    // byte offset from the start of the block
	What   string // what is wrong
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("huffman: corrupt block at byte %d: %s", e.Offset, e.What)
}

// Unwrap lets errors.Is(err, ErrCorrupt) match.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func corrupt(off int, format string, args ...any) error {
	return &CorruptError{Offset: off, What: fmt.Sprintf(format, args...)}
}
