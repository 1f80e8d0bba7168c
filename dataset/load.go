package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/npy"
)

// Options tune Load. The zero value reads everything with the defaults.
type Options struct {
	// Max > 0 keeps a random subset of Max samples, chosen with Seed, in
	// the source's order. For an image folder only those images are
	// decoded.
	Max  int
	Seed uint64
	// Labels is a file of labels for a .npy or IDX source: a .npy of N
	// integers >= 0 ([N] or [N, 1]), or an IDX labels file for an IDX
	// images file. Empty means the sibling convention (see the package
	// documentation).
	Labels string
	// NoLabels reads the source as unlabelled: labels are dropped, and an
	// image folder is read recursively without classes.
	NoLabels bool
	// IDXSet picks the IDX pair of a folder: "train" or "test"; empty means
	// train when its files are there, else test.
	IDXSet string
	// ArrayLayout says how a 4-D uint8 .npy array is laid out: NHWC or
	// NCHW; empty guesses from where a dimension of 1, 3 or 4 is (NHWC
	// when both could be).
	ArrayLayout string
	// MaxPixels bounds an image's canvas (width*height) as its header
	// declares it, checked before decoding; 0 means DefaultMaxPixels.
	MaxPixels int64
	// SkipBad skips images that fail to decode or do not fit (listing them
	// in Set.Skipped) instead of failing.
	SkipBad bool
	// Workers decode and preprocess in parallel; 0 means GOMAXPROCS.
	Workers int
	// Budget is the memory budget; nil means budget.Default.
	Budget *budget.Budget
}

// DefaultMaxPixels is the default bound of an image's canvas: 64
// megapixels (PIL warns about decompression bombs from 89 megapixels).
const DefaultMaxPixels = 1 << 26

// bytesPerPixel bounds what decoding costs per pixel of canvas: the
// decoded image (at most 8 bytes a pixel, 16-bit RGBA), the passes of an
// interlaced PNG (another 8), the decoders' working memory (a progressive
// JPEG keeps 6 bytes a pixel of coefficients) and the preprocessing's row
// buffers. FuzzDecodeImage checks the bound.
const bytesPerPixel = 24

func (o Options) maxPixels() int64 {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Load reads the samples at path: a folder of images, a .npy file, IDX
// files, or one image (see the package documentation), preprocessed by
// pre. pre is not used for a float .npy array, which is taken as model
// inputs; when pre then gives a size, the array's samples must have that
// many values.
func Load(path string, pre Preprocess, opt Options) (*Set, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var s *Set
	switch {
	case st.IsDir():
		if _, ok := idxPair(path, opt.IDXSet); ok || opt.IDXSet != "" {
			s, err = loadIDXDir(path, pre, opt)
		} else {
			s, err = loadFolder(path, pre, opt)
		}
	default:
		var kind string
		if kind, err = sniff(path); err != nil {
			return nil, err
		}
		switch kind {
		case "npy":
			s, err = loadNPY(path, pre, opt)
		case "idx":
			s, err = loadIDXFile(path, pre, opt)
		case "idx-labels":
			err = fmt.Errorf("dataset: %s is an IDX labels file: give the images file (its labels are found beside it, or pass them with Options.Labels)", path)
		case "image":
			s, err = loadImages(path, []string{path}, nil, nil, nil, pre, opt)
		default:
			err = fmt.Errorf("dataset: %s is neither a folder of images, a .npy file, an IDX images file nor an image (by its content and name)", path)
		}
	}
	if err != nil {
		return nil, err
	}
	if opt.NoLabels {
		s.Labels = nil
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// sniff says what a file holds: "npy", "idx" (IDX images), "idx-labels",
// "image" (by its extension), or "".
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte(npy.Magic)) {
		return "npy", nil
	}
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			if zr, err := gzip.NewReader(bufio.NewReader(f)); err == nil {
				head = make([]byte, 4)
				n, _ := io.ReadFull(zr, head)
				head = head[:n]
			}
		}
	}
	if len(head) >= 4 {
		switch binary.BigEndian.Uint32(head) {
		case idxImagesMagic:
			return "idx", nil
		case idxLabelsMagic:
			return "idx-labels", nil
		}
	}
	if isImageName(path) {
		return "image", nil
	}
	return "", nil
}

// parallel runs f(0..n-1) on workers goroutines. Indices are handed out in
// order and a failure stops the handing out, so the error returned, that
// of the lowest failing index, does not depend on the scheduling.
func parallel(n, workers int, f func(i int) error) error {
	workers = min(max(workers, 1), max(n, 1))
	var next atomic.Int64
	var stop atomic.Bool
	errs := make([]error, workers)
	errAt := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		errAt[w] = n
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					if i < errAt[w] {
						errs[w], errAt[w] = err, i
					}
					stop.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	best := n
	var err error
	for w := range workers {
		if errAt[w] < best {
			best, err = errAt[w], errs[w]
		}
	}
	return err
}

// allocX checks and allocates the values of n samples of size values.
func allocX(b *budget.Budget, n, size int, what string) ([]float32, error) {
	total, err := budget.Elems(n, size)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", what, err)
	}
	if err := b.Check(fmt.Sprintf("%s (%d samples of %d float32 values)", what, n, size), total, 4); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return make([]float32, total), nil
}

// gate reserves the memory of the decodes in flight, so that parallel
// workers together stay within the budget: a reservation that does not
// fit waits for the others to finish, and fails only when none is left
// to wait for.
type gate struct {
	b        *budget.Budget
	mu       sync.Mutex
	cond     *sync.Cond
	inflight int
}

func newGate(b *budget.Budget) *gate {
	g := &gate{b: b}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) acquire(what string, n int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		err := g.b.Reserve(what, n)
		if err == nil {
			g.inflight++
			return nil
		}
		var ex *budget.ExceededError
		if g.inflight == 0 || !errors.As(err, &ex) {
			return err
		}
		g.cond.Wait()
	}
}

func (g *gate) release(n int64) {
	g.mu.Lock()
	g.b.Release(n)
	g.inflight--
	g.cond.Broadcast()
	g.mu.Unlock()
}
