// Command coders compares, tensor by tensor, the ways to code the
// pruned, weight-shared tensors of .dcz files (issue 16):
//
//   - Huffman: the relative indices and codebook indices as the file
//     stores them (two Huffman blocks, tables included; the bytes of the
//     file's 'L' sections, packages sparse and huffman);
//   - cabac: package cabac's stream (profile byte included; the profile
//     column shows which the encoder chose: 0x40 the gap profile, symbols
//     for runs of pruned weights and for indices, below 0x40 a bin per
//     position with contexts);
//   - zstd: klauspost/compress zstd at its highest level
//     (SpeedBestCompression) on the raw index stream: one byte per
//     position, 0 for a pruned weight and 1 + the codebook index otherwise
//     (two bytes, little endian, when the codebook has 256 entries or more);
//   - order 0: the order-0 entropy of that stream, n * H(symbol);
//   - context bound: the ideal adaptive code length of cabac's model.
//
// and times (CPU time of the thread) encoding and decoding of the Huffman path (sparse.Encode,
// huffman.Encode of both blocks; huffman.Decode of both blocks,
// sparse.Decode) against cabac on the same tensors, the best of -reps runs.
//
//	go run ./bench/coders [-reps 5] [-zstd=true] FILE.dcz...
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/deepcompress/deepcompress/cabac"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/huffman"
	"github.com/deepcompress/deepcompress/sparse"
)

type row struct {
	name                   string
	prof                   byte // cabac's profile byte (0x40: the gap profile)
	rows, cols, kept, m    int
	huff, cab, zst         int
	order0, bound          float64
	hEnc, hDec, cEnc, cDec time.Duration
}

func main() {
	runtime.LockOSThread()
	// No collections while timing: each measurement starts after a
	// runtime.GC, so that neither side pays for the other's garbage.
	debug.SetGCPercent(-1)
	reps := flag.Int("reps", 5, "timing repetitions (the best is kept)")
	useZstd := flag.Bool("zstd", true, "compress the raw index stream with zstd (slow on big files)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: coders [-reps N] FILE.dcz...")
		os.Exit(2)
	}
	for _, path := range flag.Args() {
		if err := file(path, *reps, *useZstd); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func file(path string, reps int, useZstd bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	d, err := dcz.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Printf("## %s (%d bytes)\n\n", path, st.Size())
	fmt.Println("| tensor | rows x cols | kept | k | profile | Huffman B | cabac B | cabac vs Huffman | zstd-max B | order-0 B | context bound B | cabac / bound | Huffman dec ms | cabac dec ms | dec ratio | Huffman enc ms | cabac enc ms | enc ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var tot row
	tot.name = "total"
	var zenc *zstd.Encoder
	if useZstd {
		zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	}
	for {
		s, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if s.Layer == nil {
			continue
		}
		r, err := measure(s, reps, zenc)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, s.Layer.Name, err)
		}
		print(r)
		tot.kept += r.kept
		tot.rows += r.rows * r.cols
		tot.huff += r.huff
		tot.cab += r.cab
		tot.zst += r.zst
		tot.order0 += r.order0
		tot.bound += r.bound
		tot.hEnc += r.hEnc
		tot.hDec += r.hDec
		tot.cEnc += r.cEnc
		tot.cDec += r.cDec
	}
	tot.cols = 1
	print(tot)
	fmt.Println()

	// The whole file as dcz reads it today (checksums, sections, biases
	// and the Huffman path), and the same with cabac's decoding time in
	// place of the Huffman path's.
	var read time.Duration
	for range reps {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		runtime.GC()
		t0 := cpuNow()
		if _, err := dcz.Read(bufio.NewReaderSize(f, 1<<20)); err != nil {
			return err
		}
		if t := cpuNow() - t0; read == 0 || t < read {
			read = t
		}
	}
	withCabac := read - tot.hDec + tot.cDec
	fmt.Printf("Whole file, dcz.Read (CPU time, best of %d): %.1f ms; with cabac's decoding in place of the Huffman path's: %.1f ms (%.2fx)\n\n",
		reps, ms(read), ms(withCabac), float64(withCabac)/float64(read))
	return nil
}

func ms(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 }

func print(r row) {
	shape := fmt.Sprintf("%d x %d", r.rows, r.cols)
	if r.name == "total" {
		shape = fmt.Sprintf("%d", r.rows)
	}
	prof := fmt.Sprintf("%#02x", r.prof)
	if r.name == "total" {
		prof = ""
	}
	fmt.Printf("| %s | %s | %d | %d | %s | %d | %d | %+.2f %% | %d | %.0f | %.0f | %.4f | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |\n",
		r.name, shape, r.kept, r.m, prof, r.huff, r.cab, 100*(float64(r.cab)/float64(r.huff)-1), r.zst,
		r.order0, r.bound, float64(r.cab)/r.bound, ms(r.hDec), ms(r.cDec), float64(r.cDec)/float64(r.hDec),
		ms(r.hEnc), ms(r.cEnc), float64(r.cEnc)/float64(r.hEnc))
}

func measure(s *dcz.Section, reps int, zenc *zstd.Encoder) (row, error) {
	l := s.Layer
	n := 1
	for _, v := range l.Shape {
		n *= v
	}
	rows := l.Shape[0]
	cols := 0
	if rows > 0 {
		cols = n / rows
	}
	m := len(l.Codebook)
	r := row{name: l.Name, rows: rows, cols: cols, kept: len(l.Pos), m: m, huff: s.WeightBytes + s.IndexBytes}

	// Huffman path, as package dcz codes a layer.
	ib := l.IndexBits
	var hbuf []byte
	hEnc := func() ([]byte, error) {
		b, err := huffman.Encode(hbuf[:0], l.Idx, nil)
		if err != nil {
			return nil, err
		}
		if len(l.Pos) != n {
			gaps, fillers, err := sparse.Encode(l.Pos, n, ib)
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
		return b, nil
	}
	var err error
	if hbuf, err = hEnc(); err != nil {
		return r, err
	}
	if len(hbuf) != r.huff {
		return r, fmt.Errorf("Huffman re-encoding gives %d bytes, the file %d", len(hbuf), r.huff)
	}
	var hIdx []uint16
	var hGaps []uint32
	hDec := func() error {
		idx, used, err := huffman.Decode(hIdx[:0], hbuf, n, max(m, 2))
		if err != nil {
			return err
		}
		hIdx = idx
		if len(idx) == n {
			pos := make([]uint32, n)
			for i := range pos {
				pos[i] = uint32(i)
			}
			return nil
		}
		span := sparse.Span(ib)
		gaps, _, err := huffman.Decode(hGaps[:0], hbuf[used:], n, int(span)+2)
		if err != nil {
			return err
		}
		hGaps = gaps
		var fillers []int
		for i, g := range gaps {
			if g == span+1 {
				gaps[i] = span
				fillers = append(fillers, i)
			}
		}
		pos, err := sparse.Decode(gaps, fillers, n, ib)
		if err != nil {
			return err
		}
		if len(pos) != len(l.Pos) {
			return fmt.Errorf("Huffman path decoded %d positions, want %d", len(pos), len(l.Pos))
		}
		return nil
	}

	// cabac.
	var enc cabac.Encoder
	var dec cabac.Decoder
	cbuf, err := enc.EncodeSparse(nil, rows, cols, l.Pos, l.Idx, m)
	if err != nil {
		return r, err
	}
	r.cab = len(cbuf)
	if len(cbuf) > 0 {
		r.prof = cbuf[0]
	}
	var cPos []uint32
	var cIdx []uint16
	cDec := func() error {
		var err error
		cPos, cIdx, err = dec.DecodeSparse(cbuf, rows, cols, m, cPos, cIdx)
		return err
	}
	if err := cDec(); err != nil {
		return r, err
	}
	if !slices.Equal(cPos, l.Pos) || !slices.Equal(cIdx, l.Idx) {
		return r, fmt.Errorf("cabac round trip differs")
	}
	c, err := enc.Bound(rows, cols, l.Pos, l.Idx, m)
	if err != nil {
		return r, err
	}
	r.bound = c.Bytes()

	// Raw index stream, zstd and order 0.
	wide := m >= 256
	raw := make([]byte, n*(1+b2i(wide)))
	counts := make([]int, m+1)
	counts[0] = n - len(l.Pos)
	for i, p := range l.Pos {
		v := l.Idx[i] + 1
		counts[v]++
		if wide {
			binary.LittleEndian.PutUint16(raw[2*p:], v)
		} else {
			raw[p] = byte(v)
		}
	}
	for _, k := range counts {
		if k > 0 {
			r.order0 -= float64(k) * math.Log2(float64(k)/float64(n))
		}
	}
	r.order0 /= 8
	if zenc != nil {
		r.zst = len(zenc.EncodeAll(raw, nil))
	}

	// Timing, interleaved, best of reps.
	// Each measurement repeats f for at least 5 ms of CPU time.
	best := func(cur *time.Duration, f func() error) error {
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
	for range reps {
		if err := best(&r.hEnc, func() error { _, err := hEnc(); return err }); err != nil {
			return r, err
		}
		if err := best(&r.cEnc, func() error {
			var err error
			cbuf, err = enc.EncodeSparse(cbuf[:0], rows, cols, l.Pos, l.Idx, m)
			return err
		}); err != nil {
			return r, err
		}
		if err := best(&r.hDec, hDec); err != nil {
			return r, err
		}
		if err := best(&r.cDec, cDec); err != nil {
			return r, err
		}
	}
	return r, nil
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
