// Command coders compares, tensor by tensor, the ways to code the
// pruned, weight-shared tensors of .dcz files (issue 16):
//
//   - Huffman: the relative indices and codebook indices as package dcz
//     stores them with the Huffman coder (two Huffman blocks, tables
//     included; packages sparse and huffman), re-encoded from the decoded
//     tensor and checked against the file's bytes when the file holds them;
//   - cabac: package cabac's stream (profile byte included; the profile
//     column shows which the encoder chose: 0x40 the gap profile, symbols
//     for runs of pruned weights and for indices, below 0x40 a bin per
//     position with contexts), checked to decode back to the tensor and
//     against the file's bytes when the file holds them;
//   - auto: what dcz.CoderAuto keeps, the smaller of the two (Huffman on a
//     tie);
//   - zstd: klauspost/compress zstd at its highest level
//     (SpeedBestCompression) on the raw index stream: one byte per
//     position, 0 for a pruned weight and 1 + the codebook index otherwise
//     (two bytes, little endian, when the codebook has 256 entries or
//     more), checked to decompress back to that stream;
//   - order 0: the order-0 entropy of that stream, n * H(symbol), where
//     H is the entropy of the symbols' frequencies in the tensor (the
//     cost of learning the distribution not counted);
//   - context bound: the ideal adaptive code length of cabac's model under
//     the profile the encoder picks (cabac.Encoder.Bound).
//
// Every column is computed from the same decoded positions and indices of
// the section (one quantize.Layer), so all code the same stream.
//
// It times (CPU time of the thread) encoding and decoding with the Huffman
// path (sparse.Encode, huffman.Encode of both blocks; huffman.Decode of
// both blocks, sparse.Decode) against cabac on the same tensors, the best
// of -reps runs (-reps 0: no timing), and prints per file one line per
// column of totals; -markdown adds a table with one row per file.
//
//	go run ./bench/coders [-reps 5] [-zstd=true] [-tensors=true] [-markdown] FILE.dcz...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/deepcompress/deepcompress/dcz"
)

// options are the command's flags.
type options struct {
	reps     int
	zstd     bool
	tensors  bool
	markdown bool
}

func main() {
	runtime.LockOSThread()
	// No collections while timing: each measurement starts after a
	// runtime.GC, so that neither side pays for the other's garbage.
	debug.SetGCPercent(-1)
	var o options
	flag.IntVar(&o.reps, "reps", 5, "timing repetitions (the best is kept); 0: bytes only")
	flag.BoolVar(&o.zstd, "zstd", true, "compress the raw index stream with zstd (slow on big files)")
	flag.BoolVar(&o.tensors, "tensors", true, "print the per-tensor table")
	flag.BoolVar(&o.markdown, "markdown", false, "print at the end a markdown table with one row per file")
	flag.Parse()
	if flag.NArg() == 0 || o.reps < 0 {
		fmt.Fprintln(os.Stderr, "usage: coders [-reps N] [-zstd=false] [-tensors=false] [-markdown] FILE.dcz...")
		os.Exit(2)
	}
	var sums []fileSum
	for _, path := range flag.Args() {
		s, err := file(path, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "coders:", err)
			os.Exit(1)
		}
		sums = append(sums, s)
	}
	if o.markdown {
		printMarkdown(sums, o)
	}
}

// fileSum is a file's totals over its pruned, weight-shared tensors.
type fileSum struct {
	path  string
	size  int64
	tot   row
	read  time.Duration // dcz.Read of the whole file, as stored
	asHuf time.Duration // the same with the Huffman path for every tensor
	asCab time.Duration // the same with cabac for every tensor
	// coded is the entropy-coded bytes the file stores for its pruned
	// tensors (dcz.Section.CodedBytes): size - coded + tot.auto is the
	// file's size with dcz.CoderAuto.
	coded int
}

func file(path string, o options) (fileSum, error) {
	sum := fileSum{path: path}
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		sum.size = st.Size()
	}
	d, err := dcz.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return sum, fmt.Errorf("%s: %w", path, err)
	}
	fmt.Printf("## %s (%d bytes)\n\n", path, sum.size)
	if o.tensors {
		printHeader()
	}
	zenc := newZstd(o.zstd)
	var stored time.Duration // decoding time of the coder each section uses
	for {
		s, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("%s: %w", path, err)
		}
		if s.Layer == nil {
			continue
		}
		r, err := measure(s, o.reps, zenc)
		if err != nil {
			return sum, fmt.Errorf("%s: %s: %w", path, s.Layer.Name, err)
		}
		if o.tensors {
			printRow(r, o)
		}
		sum.tot.add(r)
		sum.coded += s.CodedBytes
		stored += r.hDec
		if r.arith {
			stored += r.cDec - r.hDec
		}
	}
	sum.tot.name = "total"
	if o.tensors {
		printRow(sum.tot, o)
		fmt.Println()
	}
	if o.reps > 0 {
		if sum.read, err = readTime(f, o.reps); err != nil {
			return sum, fmt.Errorf("%s: %w", path, err)
		}
		sum.asHuf = sum.read - stored + sum.tot.hDec
		sum.asCab = sum.read - stored + sum.tot.cDec
	}
	printTotals(sum, o)
	return sum, nil
}

// readTime is the best CPU time of reps runs of dcz.Read of the whole
// file (checksums, sections, biases and the coders the file uses).
func readTime(f *os.File, reps int) (time.Duration, error) {
	var best time.Duration
	for range reps {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		runtime.GC()
		t0 := cpuNow()
		if _, err := dcz.Read(bufio.NewReaderSize(f, 1<<20)); err != nil {
			return 0, err
		}
		if t := cpuNow() - t0; best == 0 || t < best {
			best = t
		}
	}
	return best, nil
}
