// Command halfdcz rewrites a .dcz file with its codebooks and raw tensors
// (biases) stored in float16 where that loses nothing measurable
// (dcz.Model.SetFloat16: every codebook within float16's range, every raw
// tensor that float16 holds within 2^-11 of its largest magnitude), and
// prints the bytes
// before and after. The input is not changed. bench/paper_half.sh runs it
// on the paper preset's LeNet files and evaluates both.
//
//	halfdcz [-codebooks=true] [-raw=true] IN.dcz OUT.dcz
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/deepcompress/deepcompress/dcz"
)

func main() {
	codebooks := flag.Bool("codebooks", true, "store codebooks in float16")
	raw := flag.Bool("raw", true, "store raw tensors (biases) in float16 where that moves no value by more than 2^-11 of the tensor's largest magnitude")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: halfdcz [-codebooks] [-raw] IN.dcz OUT.dcz")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *codebooks, *raw); err != nil {
		fmt.Fprintln(os.Stderr, "halfdcz:", err)
		os.Exit(1)
	}
}

func run(in, out string, codebooks, raw bool) error {
	m, err := dcz.ReadFile(in)
	if err != nil {
		return err
	}
	cb, values := 0, 0
	for _, l := range m.Layers {
		cb += len(l.Codebook)
	}
	for _, t := range m.Raw {
		values += len(t.Data)
	}
	nl, nr := m.SetFloat16(codebooks, raw)
	if err := dcz.WriteFile(out, m); err != nil {
		return err
	}
	a, err := os.Stat(in)
	if err != nil {
		return err
	}
	b, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes -> %s: %d bytes (%d saved, %.2f %%); %d of %d codebooks (%d shared values) and %d of %d raw tensors (%d values) in float16\n",
		in, a.Size(), out, b.Size(), a.Size()-b.Size(), 100*float64(a.Size()-b.Size())/float64(a.Size()),
		nl, len(m.Layers), cb, nr, len(m.Raw), values)
	return nil
}
