package datafree

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	membudget "github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/safetensors"
)

// VerifyResult summarises a successful Verify.
type VerifyResult struct {
	Tensors int   `json:"tensors"`
	Layers  int   `json:"layers"` // compressed tensors
	Weights int64 `json:"weights"`
	Kept    int64 `json:"kept"`
	// MaxError is the largest |w - shared(w)| over all survivors.
	MaxError float64 `json:"max_error"`
}

// VerifyError reports the first check that failed.
type VerifyError struct {
	Tensor string
	Msg    string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("datafree: verify: tensor %q: %s", e.Tensor, e.Msg)
}

// Verify checks the .dcz file compressed against the safetensors file orig
// it was made from and, unless decoded is "", the safetensors file decoded
// from it:
//
//   - the .dcz file holds exactly the tensors of orig, with their shapes;
//   - a raw tensor equals orig's, bit for bit;
//   - a compressed tensor is a magnitude pruning of orig's (every survivor
//     is non-zero there, and no pruned weight is larger in magnitude than
//     a survivor) whose survivors each carry a shared value nearest to
//     their weight in orig (the k-means assignment);
//   - decoded holds the same tensors as F32, each equal bit for bit to the
//     dense form: the shared value at the survivors, +0 elsewhere.
//
// It streams like Compress: one section and a chunk of each file at a time.
func Verify(orig, compressed, decoded string) (*VerifyResult, error) {
	origRd, closeOrig, err := openSafetensors(orig)
	if err != nil {
		return nil, err
	}
	defer closeOrig()
	var decRd *stFile
	if decoded != "" {
		d, closeDec, err := openSafetensors(decoded)
		if err != nil {
			return nil, err
		}
		defer closeDec()
		decRd = d
		if got, want := len(d.Entries()), len(origRd.Entries()); got != want {
			return nil, &VerifyError{Tensor: "", Msg: fmt.Sprintf("%s holds %d tensors, %s %d", decoded, got, orig, want)}
		}
	}
	f, err := os.Open(compressed)
	if err != nil {
		return nil, fmt.Errorf("datafree: %w", err)
	}
	defer f.Close()
	d, err := dcz.NewDecoder(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", compressed, err)
	}
	res := &VerifyResult{}
	for {
		s, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", compressed, err)
		}
		if err := verifySection(s, origRd, decRd, res); err != nil {
			return nil, err
		}
	}
	if res.Tensors != len(origRd.Entries()) {
		return nil, &VerifyError{Msg: fmt.Sprintf("%s holds %d tensors, %s %d", compressed, res.Tensors, orig, len(origRd.Entries()))}
	}
	return res, nil
}

// stFile is an open safetensors file with its raw bytes.
type stFile struct {
	*safetensors.Reader
	r io.ReaderAt
}

func openSafetensors(path string) (*stFile, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("datafree: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("datafree: %w", err)
	}
	rd, err := safetensors.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return &stFile{Reader: rd, r: f}, func() { f.Close() }, nil
}

// source returns the chunked reader of a tensor of the file, checking
// that it exists with the given shape.
func (sf *stFile) source(name string, shape []int, mustF32 bool) (*source, error) {
	e, ok := sf.Entry(name)
	switch {
	case !ok:
		return nil, &VerifyError{Tensor: name, Msg: "missing"}
	case !slices.Equal(e.Shape, shape):
		return nil, &VerifyError{Tensor: name, Msg: fmt.Sprintf("shape %s, the .dcz file says %s", membudget.Shape(e.Shape), membudget.Shape(shape))}
	case !e.DType.Convertible() || mustF32 && e.DType != safetensors.F32:
		return nil, &VerifyError{Tensor: name, Msg: fmt.Sprintf("dtype %s", e.DType)}
	}
	return newSource(sf.r, sf.DataOffset(), e), nil
}

func verifySection(s *dcz.Section, orig, dec *stFile, res *VerifyResult) error {
	name, shape := sectionName(s)
	src, err := orig.source(name, shape, false)
	if err != nil {
		return err
	}
	var decSrc *source
	if dec != nil {
		if decSrc, err = dec.source(name, shape, true); err != nil {
			return err
		}
	}
	res.Tensors++
	res.Weights += int64(src.n)
	var chk checker
	if s.Layer != nil {
		chk = newLayerChecker(s.Layer)
		res.Layers++
		res.Kept += int64(len(s.Layer.Pos))
	} else {
		chk = &rawChecker{data: s.Raw.Data}
	}
	var decBuf []byte
	var decVals []float32
	err = src.scan(0, src.n, func(start int, vals []float32) error {
		want, err := chk.check(start, vals)
		if err != nil {
			return err
		}
		if decSrc == nil {
			return nil
		}
		if len(decVals) < len(vals) {
			decBuf, decVals = make([]byte, 4*len(vals)), make([]float32, len(vals))
		}
		got := decVals[:len(vals)]
		if err := decSrc.read(start, decBuf[:4*len(vals)], got); err != nil {
			return err
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				return fmt.Errorf("decoded value %d is %v, want %v", start+i, got[i], want[i])
			}
		}
		return nil
	})
	if err == nil {
		err = chk.done()
	}
	if err != nil {
		if _, ok := err.(*VerifyError); !ok {
			err = &VerifyError{Tensor: name, Msg: err.Error()}
		}
		return err
	}
	if lc, ok := chk.(*layerChecker); ok {
		res.MaxError = max(res.MaxError, lc.maxErr)
	}
	return nil
}

func sectionName(s *dcz.Section) (string, []int) {
	if s.Layer != nil {
		return s.Layer.Name, s.Layer.Shape
	}
	return s.Raw.Name, s.Raw.Shape
}

// checker checks a tensor chunk by chunk against the original values and
// returns the dense values the decoded file must hold there.
type checker interface {
	check(start int, orig []float32) (want []float32, err error)
	done() error
}

type rawChecker struct{ data []float32 }

func (c *rawChecker) check(start int, orig []float32) ([]float32, error) {
	want := c.data[start : start+len(orig)]
	for i, x := range orig {
		if math.Float32bits(x) != math.Float32bits(want[i]) {
			return nil, fmt.Errorf("raw value %d is %v, the input has %v", start+i, want[i], x)
		}
	}
	return want, nil
}

func (c *rawChecker) done() error { return nil }

type layerChecker struct {
	l           *dcz.Layer
	next        int // index into Pos of the next survivor
	want        []float32
	minKept     float32
	maxPruned   float32
	maxErr      float64
	minKeptAt   int
	maxPrunedAt int
}

func newLayerChecker(l *dcz.Layer) *layerChecker {
	return &layerChecker{l: l, minKept: float32(math.Inf(1)), minKeptAt: -1, maxPrunedAt: -1}
}

func (c *layerChecker) check(start int, orig []float32) ([]float32, error) {
	if cap(c.want) < len(orig) {
		c.want = make([]float32, len(orig))
	}
	want := c.want[:len(orig)]
	clear(want)
	pos, idx, cb := c.l.Pos, c.l.Idx, c.l.Codebook
	for i, x := range orig {
		p := start + i
		mag := float32(math.Abs(float64(x)))
		if c.next < len(pos) && int(pos[c.next]) == p {
			j := int(idx[c.next])
			c.next++
			if x == 0 {
				return nil, fmt.Errorf("weight %d is kept but zero in the input", p)
			}
			if !nearest(x, cb, j) {
				return nil, fmt.Errorf("weight %d (%v) has shared value %v, but another is nearer", p, x, cb[j])
			}
			if mag < c.minKept {
				c.minKept, c.minKeptAt = mag, p
			}
			c.maxErr = max(c.maxErr, math.Abs(float64(x)-float64(cb[j])))
			want[i] = cb[j]
		} else if mag > c.maxPruned {
			c.maxPruned, c.maxPrunedAt = mag, p
		}
	}
	return want, nil
}

// nearest reports whether cb[j] is a codebook value nearest to x. The
// codebook is ascending, so only the neighbours need a look; a tie goes
// either way.
func nearest(x float32, cb []float32, j int) bool {
	d := math.Abs(float64(x) - float64(cb[j]))
	for _, k := range []int{j - 1, j + 1} {
		if k >= 0 && k < len(cb) && math.Abs(float64(x)-float64(cb[k])) < d {
			return false
		}
	}
	return true
}

func (c *layerChecker) done() error {
	if c.maxPrunedAt >= 0 && c.minKeptAt >= 0 && c.maxPruned > c.minKept {
		return fmt.Errorf("pruned weight %d has magnitude %v, above the kept weight %d (%v): not a magnitude pruning",
			c.maxPrunedAt, c.maxPruned, c.minKeptAt, c.minKept)
	}
	return nil
}
