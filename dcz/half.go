package dcz

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/safetensors"
)

// Precision is how the float values of a tensor section are stored: the
// codebook of a pruned, weight-shared tensor (Layer) or the values of a
// raw tensor (Tensor). The zero value is float32, what every file held
// before float16 storage existed.
type Precision uint8

const (
	// Float32 stores IEEE 754 binary32 values, 4 bytes each, bit for bit.
	Float32 Precision = iota
	// Float16 stores IEEE 754 binary16 values, 2 bytes each. The encoder
	// accepts only values that binary16 holds exactly (see RoundFloat16),
	// so a file reads back as the model written: no rounding happens in
	// the encoder.
	Float16
)

func (p Precision) String() string {
	switch p {
	case Float32:
		return "float32"
	case Float16:
		return "float16"
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// size is the bytes of one stored value, 0 for an unknown precision.
func (p Precision) size() int {
	switch p {
	case Float32:
		return 4
	case Float16:
		return 2
	}
	return 0
}

// appendValues appends v stored at precision p. Every value must be exact
// at p (checkExact).
func appendValues(dst []byte, v []float32, p Precision) []byte {
	for _, x := range v {
		if p == Float16 {
			h, _ := toHalfExact(x)
			dst = binary.LittleEndian.AppendUint16(dst, h)
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
		}
	}
	return dst
}

// readValues decodes len(dst) values stored at precision p from b, which
// holds at least len(dst)*p.size() bytes.
func readValues(dst []float32, b []byte, p Precision) {
	for i := range dst {
		if p == Float16 {
			dst[i] = safetensors.F16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		} else {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
}

// checkExact reports the first value of v that precision p cannot store
// bit for bit, or an unknown precision.
func checkExact(v []float32, p Precision) error {
	switch p {
	case Float32:
		return nil
	case Float16:
		for i, x := range v {
			if _, ok := toHalfExact(x); !ok {
				return fmt.Errorf("value %d (%v) is not a float16 value (round with dcz.RoundFloat16 first)", i, x)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown precision %d", uint8(p))
}

// toHalfExact returns the binary16 pattern h with F16ToFloat32(h) == x bit
// for bit, if there is one. Every binary16 pattern has its image (NaN
// payloads, signalling ones included, and both zeros), so a file read and
// written again is unchanged.
func toHalfExact(x float32) (uint16, bool) {
	b := math.Float32bits(x)
	h := safetensors.Float32ToF16(x)
	if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 { // NaN: keep its payload as it is
		h = uint16(b>>16)&0x8000 | 0x7c00 | uint16(b>>13)&0x3ff
	}
	return h, math.Float32bits(safetensors.F16ToFloat32(h)) == b
}

// RoundFloat16 rounds every value of v in place to the nearest float16
// value (IEEE 754 binary16, ties to even), so that a codebook or tensor
// holding them can be stored with Precision Float16. It refuses, leaving v
// unchanged, a finite value beyond float16's range (|x| >= 65520, which
// would become an infinity). The relative error of a value in binary16's
// normal range (|x| >= 2^-14) is at most 2^-11; smaller values keep an
// absolute error of at most 2^-25.
func RoundFloat16(v []float32) error {
	for i, x := range v {
		if h := safetensors.Float32ToF16(x); h&0x7fff == 0x7c00 && !math.IsInf(float64(x), 0) {
			return fmt.Errorf("dcz: value %d (%v) is beyond the float16 range (65504)", i, x)
		}
	}
	for i, x := range v {
		if _, exact := toHalfExact(x); !exact {
			v[i] = safetensors.F16ToFloat32(safetensors.Float32ToF16(x))
		}
	}
	return nil
}

// Float16Fits reports whether rounding v to float16 moves no value by
// more than 2^-11 of v's largest magnitude, the rule for storing a raw
// tensor in float16 without measurable loss: no finite value is beyond
// float16's range (|x| >= 65520), and the largest finite magnitude is at
// least 2^-14, float16's smallest normal value (or v holds no non-zero
// finite value). Values in the normal range then move by at most 2^-11 of
// themselves, smaller ones (float16 subnormals) by at most 2^-25, which
// is 2^-11 of 2^-14. A tensor of only tiny values, such as an epsilon
// constant of 1e-5, stays float32.
func Float16Fits(v []float32) bool {
	const minNormal = 1.0 / (1 << 14)
	top := 0.0
	for _, x := range v {
		a := math.Abs(float64(x))
		if math.IsInf(a, 0) || math.IsNaN(a) {
			continue
		}
		if a >= 65520 {
			return false
		}
		top = max(top, a)
	}
	return top == 0 || top >= minNormal
}

// SetFloat16 rounds the codebook of l to float16 values (RoundFloat16) and
// marks it to be stored so: 2 bytes a shared value instead of 4. Entries
// that round to the same value are merged and the indices follow, so the
// codebook stays a set of distinct values. The indices are otherwise kept,
// which is right for a codebook that defines the weights (after
// fine-tuning); to share given weights among float16 values, round the
// centroids before assigning the weights to them (package datafree does).
// The codebook is copied, never changed in place.
func (l *Layer) SetFloat16() error {
	cb := append([]float32(nil), l.Codebook...)
	if err := RoundFloat16(cb); err != nil {
		return fmt.Errorf("dcz: layer %s: %w", l.Name, err)
	}
	merged, remap := distinct(cb)
	if len(merged) < len(cb) {
		idx := make([]uint16, len(l.Idx))
		for i, j := range l.Idx {
			idx[i] = remap[j]
		}
		l.Idx = idx
	}
	l.Codebook, l.Precision = merged, Float16
	return nil
}

// distinct returns the distinct values of v (bitwise) in order of first
// appearance and, for each entry of v, its index among them.
func distinct(v []float32) ([]float32, []uint16) {
	seen := make(map[uint32]uint16, len(v))
	out := make([]float32, 0, len(v))
	remap := make([]uint16, len(v))
	for i, x := range v {
		j, ok := seen[math.Float32bits(x)]
		if !ok {
			j = uint16(len(out))
			seen[math.Float32bits(x)] = j
			out = append(out, x)
		}
		remap[i] = j
	}
	return out, remap
}

// SetFloat16 rounds the values of t to float16 (RoundFloat16) and marks
// them to be stored so, 2 bytes a value. The data is copied, never changed
// in place. Float16Fits says whether that moves any value by more than
// 2^-11 of the tensor's largest magnitude.
func (t *Tensor) SetFloat16() error {
	data := append([]float32(nil), t.Data...)
	if err := RoundFloat16(data); err != nil {
		return fmt.Errorf("dcz: tensor %s: %w", t.Name, err)
	}
	t.Data, t.Precision = data, Float16
	return nil
}

// SetFloat16 stores the model's codebooks (codebooks) and raw tensors
// (raw) in float16 where that loses nothing measurable: every codebook
// within float16's range (its values move by at most 2^-11 of themselves,
// far below the spacing of shared values), and every raw tensor whose
// values move by at most 2^-11 of its largest magnitude (Float16Fits).
// It returns
// how many codebooks and raw tensors it converted; the others keep
// float32.
func (m *Model) SetFloat16(codebooks, raw bool) (layers, tensors int) {
	for i := range m.Layers {
		if l := &m.Layers[i]; codebooks && l.Precision == Float32 && l.SetFloat16() == nil {
			layers++
		}
	}
	for i := range m.Raw {
		if t := &m.Raw[i]; raw && t.Precision == Float32 && Float16Fits(t.Data) && t.SetFloat16() == nil {
			tensors++
		}
	}
	return layers, tensors
}
