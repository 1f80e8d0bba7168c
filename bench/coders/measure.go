package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/deepcompress/deepcompress/cabac"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/huffman"
	"github.com/deepcompress/deepcompress/sparse"
)

// row is one tensor's measurements, or a file's totals (name "total";
// then rows counts positions and cols is 1).
type row struct {
	name                   string
	prof                   byte // cabac's profile byte (0x40: the gap profile)
	arith                  bool // the file stores the tensor with cabac
	rows, cols, kept, m    int
	tensors                int // totals: the tensors added
	huff, cab, auto, zst   int
	order0, bound          float64
	hEnc, hDec, cEnc, cDec time.Duration
}

func (t *row) add(r row) {
	t.tensors++
	t.kept += r.kept
	t.rows += r.rows * r.cols
	t.cols = 1
	t.huff += r.huff
	t.cab += r.cab
	t.auto += r.auto
	t.zst += r.zst
	t.order0 += r.order0
	t.bound += r.bound
	t.hEnc += r.hEnc
	t.hDec += r.hDec
	t.cEnc += r.cEnc
	t.cDec += r.cDec
}

// tensor is one section's decoded tensor, the stream every column codes.
type tensor struct {
	l          *dcz.Layer
	n          int // positions
	rows, cols int // cabac's matrix view
	m          int // codebook size
}

func newTensor(l *dcz.Layer) tensor {
	n := 1
	for _, v := range l.Shape {
		n *= v
	}
	t := tensor{l: l, n: n, rows: 1, cols: n, m: len(l.Codebook)}
	if len(l.Shape) > 0 {
		t.rows = l.Shape[0]
		t.cols = 0
		if t.rows > 0 {
			t.cols = n / t.rows
		}
	}
	return t
}

func measure(s *dcz.Section, reps int, zenc *zstd.Encoder) (row, error) {
	t := newTensor(s.Layer)
	r := row{name: t.l.Name, rows: t.rows, cols: t.cols, kept: len(t.l.Pos), m: t.m, arith: t.l.Coder == dcz.CoderArith}
	h := huffmanPath{t: t}
	hbuf, err := h.encode()
	if err != nil {
		return r, err
	}
	r.huff = len(hbuf)
	if !r.arith && r.huff != s.CodedBytes {
		return r, fmt.Errorf("Huffman re-encoding gives %d bytes, the file %d", r.huff, s.CodedBytes)
	}
	c := cabacPath{t: t}
	if err := c.check(); err != nil {
		return r, err
	}
	r.cab, r.prof = len(c.buf), c.buf[0]
	if r.arith && r.cab != s.CodedBytes {
		return r, fmt.Errorf("cabac re-encoding gives %d bytes, the file %d", r.cab, s.CodedBytes)
	}
	// dcz.CoderAuto's choice: the Huffman blocks on a tie.
	r.auto = min(r.huff, r.cab)
	bound, err := c.enc.Bound(t.rows, t.cols, t.l.Pos, t.l.Idx, t.m)
	if err != nil {
		return r, err
	}
	r.bound = bound.Bytes()
	raw := rawStream(t)
	r.order0 = order0(t)
	if zenc != nil {
		if r.zst, err = zstdBytes(zenc, raw); err != nil {
			return r, err
		}
	}
	err = r.time(reps, &h, &c)
	return r, err
}

// huffmanPath codes a tensor as package dcz's Huffman coder does.
type huffmanPath struct {
	t    tensor
	buf  []byte
	idx  []uint16
	gaps []uint32
}

// encode returns the Huffman block of the indices and, unless every
// position is kept, the Huffman block of the gaps, fillers as the symbol
// 2^ib+1.
func (h *huffmanPath) encode() ([]byte, error) {
	l, ib := h.t.l, h.t.l.IndexBits
	b, err := huffman.Encode(h.buf[:0], l.Idx, nil)
	if err != nil {
		return nil, err
	}
	if len(l.Pos) != h.t.n {
		gaps, fillers, err := sparse.Encode(l.Pos, h.t.n, ib)
		if err != nil {
			return nil, err
		}
		for _, f := range fillers {
			gaps[f] = sparse.Span(ib) + 1
		}
		if b, err = huffman.Encode(b, gaps, nil); err != nil {
			return nil, err
		}
	}
	h.buf = b
	return b, nil
}

// decode decodes h.buf back to positions (checked in number) and indices.
func (h *huffmanPath) decode() error {
	n, l := h.t.n, h.t.l
	idx, used, err := huffman.Decode(h.idx[:0], h.buf, n, max(h.t.m, 2))
	if err != nil {
		return err
	}
	h.idx = idx
	if len(idx) == n {
		pos := make([]uint32, n)
		for i := range pos {
			pos[i] = uint32(i)
		}
		return nil
	}
	span := sparse.Span(l.IndexBits)
	gaps, _, err := huffman.Decode(h.gaps[:0], h.buf[used:], n, int(span)+2)
	if err != nil {
		return err
	}
	h.gaps = gaps
	pos, err := sparse.Decode(gaps, dcz.SplitGapSymbols(gaps, l.IndexBits), n, l.IndexBits)
	if err != nil {
		return err
	}
	if len(pos) != len(l.Pos) {
		return fmt.Errorf("Huffman path decoded %d positions, want %d", len(pos), len(l.Pos))
	}
	return nil
}

// cabacPath codes a tensor with package cabac.
type cabacPath struct {
	t   tensor
	enc cabac.Encoder
	dec cabac.Decoder
	buf []byte
	pos []uint32
	idx []uint16
}

func (c *cabacPath) encode() error {
	var err error
	c.buf, err = c.enc.EncodeSparse(c.buf[:0], c.t.rows, c.t.cols, c.t.l.Pos, c.t.l.Idx, c.t.m)
	return err
}

func (c *cabacPath) decode() error {
	var err error
	c.pos, c.idx, err = c.dec.DecodeSparse(c.buf, c.t.rows, c.t.cols, c.t.m, c.pos[:0], c.idx[:0])
	return err
}

// check encodes the tensor and checks that the stream decodes back to it.
func (c *cabacPath) check() error {
	if err := c.encode(); err != nil {
		return err
	}
	if err := c.decode(); err != nil {
		return err
	}
	if !slices.Equal(c.pos, c.t.l.Pos) || !slices.Equal(c.idx, c.t.l.Idx) {
		return fmt.Errorf("cabac round trip differs")
	}
	return nil
}

// rawStream is the tensor as one symbol per position: 0 pruned, 1 + the
// codebook index kept; a byte each, or two (little endian) when the
// codebook has 256 entries or more.
func rawStream(t tensor) []byte {
	wide := t.m >= 256
	w := 1
	if wide {
		w = 2
	}
	raw := make([]byte, t.n*w)
	for i, p := range t.l.Pos {
		v := t.l.Idx[i] + 1
		if wide {
			binary.LittleEndian.PutUint16(raw[2*p:], v)
		} else {
			raw[p] = byte(v)
		}
	}
	return raw
}

// order0 is the order-0 entropy in bytes of the raw stream's symbols:
// -sum over symbols of k * log2(k/n), k the symbol's count.
func order0(t tensor) float64 {
	counts := make([]int, t.m+1)
	counts[0] = t.n - len(t.l.Pos)
	for _, x := range t.l.Idx {
		counts[x+1]++
	}
	bits := 0.0
	for _, k := range counts {
		if k > 0 {
			bits -= float64(k) * math.Log2(float64(k)/float64(t.n))
		}
	}
	return bits / 8
}

// newZstd is zstd's encoder at its highest level, or nil when off.
func newZstd(on bool) *zstd.Encoder {
	if !on {
		return nil
	}
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err) // fixed, valid options
	}
	return z
}

// zstdBytes compresses raw and checks that it decompresses back.
func zstdBytes(z *zstd.Encoder, raw []byte) (int, error) {
	c := z.EncodeAll(raw, nil)
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(len(raw))+1<<20))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	back, err := d.DecodeAll(c, make([]byte, 0, len(raw)))
	if err != nil {
		return 0, fmt.Errorf("zstd: %w", err)
	}
	if !bytes.Equal(back, raw) {
		return 0, fmt.Errorf("zstd round trip differs")
	}
	return len(c), nil
}

// time measures the four codings, interleaved, the best of reps.
func (r *row) time(reps int, h *huffmanPath, c *cabacPath) error {
	for range reps {
		for _, m := range []struct {
			t *time.Duration
			f func() error
		}{
			{&r.hEnc, func() error { _, err := h.encode(); return err }},
			{&r.cEnc, c.encode},
			{&r.hDec, h.decode},
			{&r.cDec, c.decode},
		} {
			if err := best(m.t, m.f); err != nil {
				return err
			}
		}
	}
	return nil
}

// best runs f for at least 5 ms of CPU time and keeps in *cur the time
// per run if it is the smallest yet.
func best(cur *time.Duration, f func() error) error {
	runtime.GC()
	t0 := cpuNow()
	k := 0
	for {
		if err := f(); err != nil {
			return err
		}
		k++
		if cpuNow()-t0 >= 5*time.Millisecond {
			break
		}
	}
	if t := (cpuNow() - t0) / time.Duration(k); *cur == 0 || t < *cur {
		*cur = t
	}
	return nil
}

// cpuNow is the CPU time of the calling thread (main locks itself to its
// thread), so that other processes on a loaded machine do not count.
func cpuNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}
