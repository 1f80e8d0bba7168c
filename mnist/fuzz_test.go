package mnist

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzIDX: no input makes the IDX reader panic or allocate beyond the
// budget; what it accepts has as many bytes as its dimensions say.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(imagesMagic, []uint32{2, 3, 3}, make([]byte, 18)))
	f.Add(idxBytes(labelsMagic, []uint32{4}, []byte{1, 2, 3, 4}))
	f.Add(gzipBytes(f, idxBytes(imagesMagic, []uint32{2, 3, 3}, make([]byte, 18))))
	f.Add(gzipBytes(f, idxBytes(imagesMagic, []uint32{1 << 20, 28, 28}, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, magic := range []uint32{imagesMagic, labelsMagic} {
			dims, data, err := decodeIDX(bufio.NewReader(bytes.NewReader(b)), int64(len(b)), magic)
			if err != nil {
				continue
			}
			n := 1
			for _, d := range dims {
				n *= d
			}
			if n != len(data) {
				t.Fatalf("dims %v but %d bytes", dims, len(data))
			}
		}
	})
}
