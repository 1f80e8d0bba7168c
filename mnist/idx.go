package mnist

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/gzip"

	"github.com/deepcompress/deepcompress/budget"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = uint8) and
// the number of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// maxPayload bounds the data size a header may claim, whatever the file
// size, so that the data fits a Go slice on every platform.
const maxPayload = 1<<31 - 1

// maxDeflateRatio bounds how many bytes deflate can expand one compressed
// byte into (the format's limit is about 1032:1). A gzipped file's header
// claiming more than this times the file size is certainly lying.
const maxDeflateRatio = 1032

// idx is one decoded IDX file.
type idx struct {
	path string
	dims []int
	data []byte
}

// readIDXFile reads dir/name, or dir/name.gz when the plain file is absent.
// Gzip is recognised by content, not by name.
func readIDXFile(dir, name string, magic uint32) (*idx, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		path += ".gz"
		f, err = os.Open(path)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: neither %s nor %s.gz exists in %s", ErrNotFound, name, name, dir)
		}
		return nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	dims, data, err := decodeIDX(bufio.NewReaderSize(f, 1<<16), st.Size(), magic)
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", path, err)
	}
	return &idx{path: path, dims: dims, data: data}, nil
}

// decodeIDX decodes a plain or gzipped IDX stream of size bytes whose magic
// must be want.
func decodeIDX(br *bufio.Reader, size int64, want uint32) ([]int, []byte, error) {
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("bad gzip stream: %w", err)
		}
		defer zr.Close()
		// MNIST compresses about 5:1; start the buffer at 8x the file size
		// and let it grow only if the data really is that compressible.
		return parseIDX(zr, want, size*maxDeflateRatio+1<<16, 8*size, false)
	}
	return parseIDX(br, want, size, size, true)
}

// parseIDX reads an IDX header and its data from r. limit bounds the total
// stream size; when exact is set the stream is exactly limit bytes long (a
// plain file), otherwise limit is only an upper bound (a gzip stream) and
// the data buffer starts at prealloc bytes and grows as bytes arrive.
func parseIDX(r io.Reader, want uint32, limit, prealloc int64, exact bool) ([]int, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("truncated IDX header: %w", noEOF(err))
	}
	if got := binary.BigEndian.Uint32(hdr[:]); got != want {
		return nil, nil, fmt.Errorf("bad magic 0x%08x, want 0x%08x (%s)", got, want, magicName(want))
	}
	ndims := int(want & 0xff)
	raw := make([]byte, 4*ndims)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("truncated IDX header: %w", noEOF(err))
	}
	dims := make([]int, ndims)
	claimed := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(raw[4*i:]))
		if d == 0 {
			return nil, nil, fmt.Errorf("dimension %d is zero", i)
		}
		claimed *= d // d < 2^32 and claimed <= maxPayload < 2^31: cannot overflow int64
		if claimed > maxPayload {
			return nil, nil, fmt.Errorf("header dimensions %s... claim more than %d bytes", budget.Shape(dims[:i]), maxPayload)
		}
		dims[i] = int(d)
	}
	// The bytes, and the float32 copy that Normalized makes of them.
	if err := budget.Default.Check(fmt.Sprintf("IDX data of shape %s and its float32 form", budget.Shape(dims)), claimed, 1+4); err != nil {
		return nil, nil, err
	}
	headerLen := int64(4 + 4*ndims)
	avail := limit - headerLen
	switch {
	case exact && claimed > avail:
		return nil, nil, fmt.Errorf("truncated: header %v claims %d bytes of data, file holds %d", dims, claimed, avail)
	case exact && claimed < avail:
		return nil, nil, fmt.Errorf("%d trailing bytes after the %d bytes of data of shape %v", avail-claimed, claimed, dims)
	case claimed > avail:
		return nil, nil, fmt.Errorf("header %v claims %d bytes of data, more than a %d-byte gzip file can hold", dims, claimed, limit/maxDeflateRatio)
	}
	data, err := readBounded(r, int(claimed), int(min(claimed, prealloc)))
	if err != nil {
		return nil, nil, fmt.Errorf("data of shape %v: %w", dims, err)
	}
	if !exact {
		// The gzip stream must end here; reading to EOF also checks its CRC.
		var one [1]byte
		if n, err := io.ReadFull(r, one[:]); n > 0 {
			return nil, nil, fmt.Errorf("trailing bytes after the %d bytes of data of shape %v", claimed, dims)
		} else if err != io.EOF {
			return nil, nil, fmt.Errorf("after the data: %w", err)
		}
	}
	return dims, data, nil
}

// readBounded reads exactly n bytes. n may come from an unverified header,
// so the buffer starts at prealloc bytes and doubles only as data arrives: a
// lying header costs at most twice the bytes really present.
func readBounded(r io.Reader, n, prealloc int) ([]byte, error) {
	buf := make([]byte, 0, max(prealloc, 512))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), n-len(buf)))
		}
		k, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err == io.EOF && len(buf) < n {
			return nil, fmt.Errorf("truncated: got %d of %d bytes", len(buf), n)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func magicName(m uint32) string {
	if m == imagesMagic {
		return "uint8 images [N, rows, cols]"
	}
	return "uint8 labels [N]"
}
