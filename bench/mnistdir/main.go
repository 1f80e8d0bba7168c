// Command mnistdir prints the directory holding the MNIST IDX files that
// deepcompress uses by default, for scripts that feed the same files to a
// peer.
package main

import (
	"fmt"
	"os"

	"github.com/deepcompress/deepcompress/mnist"
)

func main() {
	dir, err := mnist.DefaultDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
