package main

import (
	"os"
	"path/filepath"
)

// sameCases: commands whose output is their input, under another
// spelling or through a link. run.sh checks that each fails and leaves
// the input byte for byte unchanged.
func (c *corpus) sameCases() error {
	st, err := os.ReadFile(filepath.Join(c.dir, "base/lenet300.safetensors"))
	if err != nil {
		return err
	}
	dz, err := os.ReadFile(filepath.Join(c.dir, "base/lenet300.dcz"))
	if err != nil {
		return err
	}
	q := c.file("same/q.safetensors", st)
	d := c.file("same/m.dcz", dz)
	if err := os.Symlink("q.safetensors", filepath.Join(c.dir, "same/link.safetensors")); err != nil && !os.IsExist(err) {
		return err
	}
	c.cmd("same-encode", "same", "encode", "--model", q, "--out", q)
	c.cmd("same-encode-link", "same", "encode", "--model", q, "--out", "same/link.safetensors")
	c.cmd("same-datafree", "same", "compress", "--data-free", "--model", q, "--out", "same/../same/q.safetensors")
	c.cmd("same-compress", "same", "compress", "--model", q, "--out", q)
	c.cmd("same-decode", "same", "decode", d, "--out", d)
	c.cmd("same-export", "same", "export", "--model", q, "--out", "./same/link.safetensors")
	c.cmd("same-quantize", "same", "quantize", "--model", q, "--out", q, "--bits", "fc1=4")
	c.cmd("same-prune", "same", "prune", "--model", q, "--out", q, "--layers", "fc1=0.5")
	return nil
}
