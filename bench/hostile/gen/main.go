// Command gen writes the hostile corpus of issue 17: files that are valid
// (they pass every checksum and format check) and hostile (they declare
// sizes meant to take the process down), plus broken ones, one per case,
// and cases.tsv, the list of commands that bench/hostile/run.sh runs on
// them.
//
//	go run ./bench/hostile/gen -out DIR
//
// Each line of cases.tsv is: case, class, then the arguments of one
// deepcompress command, tab-separated, with paths relative to DIR. A case
// whose class is "same" writes its output over its input: run.sh checks
// that the command fails and the input is unchanged.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "", "directory to write the corpus into (created)")
	quick := flag.Bool("quick", false, "leave out the cases that take seconds to write (the gzip and PNG bombs, 200,000 tensors)")
	flag.Parse()
	if *out == "" {
		log.Fatal("gen: -out DIR is required")
	}
	if err := run(*out, *quick); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, quick bool) error {
	c := &corpus{dir: dir, quick: quick}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := c.base(); err != nil {
		return fmt.Errorf("gen: base files: %w", err)
	}
	for _, add := range []func() error{c.dczCases, c.safetensorsCases, c.archCases, c.configCases,
		c.imageCases, c.idxCases, c.onnxCases, c.sameCases} {
		if err := add(); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	return c.writeList()
}

// corpus collects the files and the command lines.
type corpus struct {
	dir   string
	quick bool // leave out the cases that take seconds to write
	lines []string
	cases map[string]string // case -> class
}

// file writes data as DIR/name and returns name.
func (c *corpus) file(name string, data []byte) string {
	p := filepath.Join(c.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		log.Fatal(err)
	}
	return name
}

// cmd adds one command line of a case.
func (c *corpus) cmd(name, class string, args ...string) {
	if c.cases == nil {
		c.cases = map[string]string{}
	}
	c.cases[name] = class
	c.lines = append(c.lines, strings.Join(append([]string{name, class}, args...), "\t"))
}

func (c *corpus) writeList() error {
	classes := map[string]int{}
	for _, class := range c.cases {
		classes[class]++
	}
	fmt.Printf("gen: %d cases, %d commands in %s\n", len(c.cases), len(c.lines), c.dir)
	for class, n := range classes {
		fmt.Printf("  %-12s %d cases\n", class, n)
	}
	return os.WriteFile(filepath.Join(c.dir, "cases.tsv"), []byte(strings.Join(c.lines, "\n")+"\n"), 0o644)
}
