// Package budget is the process memory budget: the one place that decides
// whether an allocation whose size comes from input may happen.
//
// The rule, followed by every reader in this module: a size that a file, a
// flag or a config declares (a shape, a kernel, a batch, an image canvas, a
// decompressed stream) is first computed with overflow checks (Elems,
// Check) and compared with the budget, and only then allocated. Going over
// gives an *ExceededError that says what asked for how much and how to raise
// the limit (the --max-memory flag of the command line, or New in the Go
// API), instead of a panic ("makeslice: len out of range") or the kernel's
// out-of-memory killer.
//
// Check compares one allocation with the whole limit; Reserve and Release
// account for allocations that live together (the tensors of a decoded
// model). A nil *Budget means Default, so APIs can take an optional budget.
package budget

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// Budget is a memory limit in bytes with a running count of reserved bytes.
// It is safe for concurrent use; the nil *Budget stands for Default.
type Budget struct {
	limit atomic.Int64
	used  atomic.Int64
}

// DefaultLimit is the limit of Default when the process starts: 4 GiB, or
// half the physical memory when that is less (never under 512 MiB). It fits
// every legitimate use in this module, VGG-16 included (553 MB dense).
var DefaultLimit = defaultLimit()

// Default is the process budget used wherever no budget is given. The
// command line's --max-memory flag sets its limit (SetLimit).
var Default = New(DefaultLimit)

// New returns a budget of limitBytes (at least 0).
func New(limitBytes int64) *Budget {
	b := &Budget{}
	b.limit.Store(max(limitBytes, 0))
	return b
}

func (b *Budget) or() *Budget {
	if b == nil {
		return Default
	}
	return b
}

// Limit returns the limit in bytes.
func (b *Budget) Limit() int64 { return b.or().limit.Load() }

// SetLimit changes the limit (negative means 0).
func (b *Budget) SetLimit(limitBytes int64) {
	b.or().limit.Store(max(limitBytes, 0))
}

// Used returns the bytes currently reserved.
func (b *Budget) Used() int64 { return b.or().used.Load() }

// ExceededError says that an allocation named What needed Need bytes, more
// than the Limit. Need is math.MaxInt64 when the size overflowed int64.
type ExceededError struct {
	What        string
	Need, Limit int64
}

func (e *ExceededError) Error() string {
	need := FormatBytes(e.Need)
	if e.Need == math.MaxInt64 {
		need = "more bytes than int64 can count"
	}
	return fmt.Sprintf("%s needs %s, over the memory budget of %s (a Budget's limit: New, SetLimit)",
		e.What, need, FormatBytes(e.Limit))
}

// ErrSize is wrapped by the errors of Elems: a negative dimension or a
// product that overflows.
var ErrSize = errors.New("impossible size")

// Elems returns the product of dims (1 for none), refusing negative
// dimensions and products that overflow int64.
func Elems(dims ...int) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in shape %s", ErrSize, Shape(dims))
		}
		var ok bool
		if n, ok = Mul(n, int64(d)); !ok {
			return 0, fmt.Errorf("%w: shape %s overflows int64", ErrSize, Shape(dims))
		}
	}
	return n, nil
}

// Mul returns a*b for non-negative a and b, and false when it overflows or
// an operand is negative.
func Mul(a, b int64) (int64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	if a != 0 && b > math.MaxInt64/a {
		return 0, false
	}
	return a * b, true
}

// Check returns nil when n elements of elemSize bytes fit in the limit, and
// an *ExceededError otherwise (also when the product overflows or n is
// negative). It reserves nothing.
func (b *Budget) Check(what string, n, elemSize int64) error {
	b = b.or()
	need, ok := Mul(n, elemSize)
	if !ok {
		need = math.MaxInt64
	}
	if limit := b.Limit(); need > limit {
		return &ExceededError{What: what, Need: need, Limit: limit}
	}
	return nil
}

// CheckDims is Check for a tensor of the given shape: Elems, then Check.
func (b *Budget) CheckDims(what string, elemSize int64, dims ...int) error {
	n, err := Elems(dims...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return b.Check(what, n, elemSize)
}

// Reserve accounts for bytes that stay allocated until Release: it fails
// with an *ExceededError when the bytes already reserved plus these would
// pass the limit, and then reserves nothing.
func (b *Budget) Reserve(what string, bytes int64) error {
	b = b.or()
	if bytes < 0 {
		bytes = math.MaxInt64
	}
	for {
		used := b.used.Load()
		total := used + bytes
		limit := b.Limit()
		if total < used || total > limit {
			return &ExceededError{What: what, Need: bytes, Limit: limit - used}
		}
		if b.used.CompareAndSwap(used, total) {
			return nil
		}
	}
}

// Release gives back bytes reserved with Reserve.
func (b *Budget) Release(bytes int64) {
	b = b.or()
	if b.used.Add(-bytes) < 0 {
		b.used.Store(0)
	}
}

// FormatBytes writes a byte count for people: "512 B", "1.5 MiB", "16 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + units[i]
}

var units = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// ParseBytes reads a size such as "4GiB", "512MiB", "1.5G", "100k" or
// "1048576" (binary multiples: K, M, G, T with or without "iB"/"B").
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.'
	})
	suffix := strings.ToLower(strings.TrimSpace(t[len(num):]))
	suffix = strings.TrimSuffix(strings.TrimSuffix(suffix, "b"), "i")
	mult := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[suffix]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 {
		return 0, fmt.Errorf("budget: bad size %q (want e.g. 4GiB, 512MiB)", s)
	}
	bytes := v * mult
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("budget: size %q is too large", s)
	}
	return int64(bytes), nil
}

// MaxShapeDims is how many dimensions Shape prints before eliding.
const MaxShapeDims = 8

// Shape formats dims for an error message with bounded length: at most
// MaxShapeDims dimensions, then "…" and the count.
func Shape(dims []int) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, d := range dims {
		if i == MaxShapeDims {
			fmt.Fprintf(&sb, " … (%d dims)", len(dims))
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.Itoa(d))
	}
	sb.WriteByte(']')
	return sb.String()
}

func defaultLimit() int64 {
	const (
		ceiling = 4 << 30
		floor   = 512 << 20
	)
	if phys := physicalMemory(); phys > 0 && phys/2 < ceiling {
		return max(phys/2, floor)
	}
	return ceiling
}
