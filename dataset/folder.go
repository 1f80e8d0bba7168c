package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // GIF decoder
	_ "image/jpeg" // JPEG decoder
	_ "image/png"  // PNG decoder
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/bmp"  // BMP decoder
	_ "golang.org/x/image/webp" // WebP decoder

	"github.com/deepcompress/deepcompress/budget"
)

// ImageExts are the file extensions (lower case) read from image folders.
var ImageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}

func isImageName(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	for _, e := range ImageExts {
		if ext == e {
			return true
		}
	}
	return false
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// loadFolder reads a folder of images: one class per sub-folder, or
// unlabelled when there are none (or with Options.NoLabels).
func loadFolder(root string, pre Preprocess, opt Options) (*Set, error) {
	if err := pre.Validate(); err != nil {
		return nil, err
	}
	if opt.Labels != "" {
		return nil, fmt.Errorf("dataset: %s is a folder of images, whose labels are its class sub-folders: Options.Labels (%s) is for .npy and IDX sources", root, opt.Labels)
	}
	entries, err := os.ReadDir(root) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var classes, tops, skipped []string
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if hidden(e.Name()) {
			skipped = append(skipped, p+": hidden")
			continue
		}
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir {
			classes = append(classes, e.Name())
		} else {
			tops = append(tops, p)
		}
	}
	if opt.NoLabels || len(classes) == 0 {
		files, sk, err := walk(root)
		if err != nil {
			return nil, err
		}
		return loadImages(root, files, nil, nil, sk, pre, opt)
	}
	var atTop []string
	for _, p := range tops {
		if isImageName(p) {
			atTop = append(atTop, p)
		} else {
			skipped = append(skipped, p+": not an image (by its extension)")
		}
	}
	if len(atTop) > 0 {
		return nil, fmt.Errorf("dataset: %s has both class sub-folders (%s) and images outside them (%s): "+
			"put every image in its class's folder, or read the folder as unlabelled (NoLabels)",
			root, listSome(classes), listSome(atTop))
	}
	var files []string
	var labels []int
	for ci, c := range classes {
		fs, sk, err := walk(filepath.Join(root, c))
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
		skipped = append(skipped, sk...)
		for range fs {
			labels = append(labels, ci)
		}
	}
	return loadImages(root, files, labels, classes, skipped, pre, opt)
}

func listSome(xs []string) string {
	const n = 3
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(xs[:n], ", "), len(xs)-n)
}

// walk lists the image files below dir, depth first with names sorted,
// and the other files as skipped with the reason. dir itself may be a
// symbolic link; links below it are followed to files, not to folders.
func walk(dir string) (files, skipped []string, err error) {
	root := dir
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		root = real
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		name := filepath.Join(dir, rel)
		switch {
		case hidden(d.Name()):
			skipped = append(skipped, name+": hidden")
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				skipped = append(skipped, name+": symbolic link to a folder or to nothing (not followed)")
				return nil
			}
		case !d.Type().IsRegular():
			skipped = append(skipped, name+": not a regular file")
			return nil
		}
		if !isImageName(name) {
			skipped = append(skipped, name+": not an image (by its extension)")
			return nil
		}
		files = append(files, name)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	return files, skipped, nil
}

// loadImages decodes and preprocesses files (with labels when not nil).
func loadImages(root string, files []string, labels []int, classes, skipped []string, pre Preprocess, opt Options) (*Set, error) {
	if err := pre.Validate(); err != nil {
		return nil, err
	}
	pre = pre.Normalize()
	if len(files) == 0 {
		msg := fmt.Sprintf("dataset: %s holds no images (%s, by extension)", root, strings.Join(ImageExts, " "))
		if len(skipped) > 0 {
			msg += fmt.Sprintf("; %d files skipped, e.g. %s", len(skipped), skipped[0])
		}
		return nil, errors.New(msg)
	}
	idx := pick(len(files), opt.Max, opt.Seed)
	n, size := len(idx), pre.SampleSize()
	b := opt.Budget
	X, err := allocX(b, n, size, "the inputs of "+root)
	if err != nil {
		return nil, err
	}
	xBytes := int64(len(X)) * 4
	if err := b.Reserve("the inputs of "+root, xBytes); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer b.Release(xBytes)

	g := newGate(b)
	failed := make([]error, n)
	err = parallel(n, opt.workers(), func(i int) error {
		path := files[idx[i]]
		err := decodeFileInto(path, pre, opt.maxPixels(), g, X[i*size:(i+1)*size])
		if err != nil && opt.SkipBad {
			failed[i] = err
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}

	s := &Set{Shape: pre.SampleShape(), Classes: classes, Pre: &pre, Skipped: skipped}
	if labels != nil {
		s.Labels = make([]int, 0, n)
	}
	s.Names = make([]string, 0, n)
	kept := 0
	for i, j := range idx {
		if failed[i] != nil {
			s.Skipped = append(s.Skipped, failed[i].Error())
			continue
		}
		copy(X[kept*size:(kept+1)*size], X[i*size:(i+1)*size])
		kept++
		s.Names = append(s.Names, files[j])
		if labels != nil {
			s.Labels = append(s.Labels, labels[j])
		}
	}
	if kept == 0 {
		return nil, fmt.Errorf("dataset: no image in %s could be read; the first: %v", root, failed[0])
	}
	s.X = X[: kept*size : kept*size]
	return s, nil
}

// decodeFileInto decodes the image at path and preprocesses it into dst.
// Errors start with the path.
func decodeFileInto(path string, pre Preprocess, maxPixels int64, g *gate, dst []float32) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, release, err := decodeImage(f, path, maxPixels, g)
	if err != nil {
		return err
	}
	defer release()
	if err := pre.apply(newImageSource(img, pre.Channels, pre.Order == BGR), dst); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// decodeImage reads the image header of r, checks the canvas it declares
// against maxPixels and the budget (reserving its memory through g), and
// only then decodes it. release gives the reservation back. Decoder
// panics are turned into errors.
func decodeImage(r io.ReadSeeker, name string, maxPixels int64, g *gate) (img image.Image, release func(), err error) {
	var cfg image.Config
	var format string
	if err := safely(func() (err error) {
		cfg, format, err = image.DecodeConfig(bufio.NewReader(r))
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("%s: not a readable image: %w", name, err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return nil, nil, fmt.Errorf("%s: empty %s image (%d x %d pixels)", name, format, w, h)
	}
	px, ok := budget.Mul(int64(w), int64(h))
	if !ok || px > maxPixels {
		return nil, nil, fmt.Errorf("%s: the %s image declares %d x %d = %d pixels, over the limit of %d pixels (Options.MaxPixels): "+
			"resize it, or raise the limit", name, format, w, h, px, maxPixels)
	}
	what := fmt.Sprintf("decoding %s (%s, %d x %d pixels)", name, format, w, h)
	if err := g.b.Check(what, px, bytesPerPixel); err != nil {
		return nil, nil, err
	}
	need := px * bytesPerPixel
	if err := g.acquire(what, need); err != nil {
		return nil, nil, err
	}
	release = func() { g.release(need) }
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		release()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := safely(func() (err error) {
		img, _, err = image.Decode(bufio.NewReader(r))
		return err
	}); err != nil {
		release()
		return nil, nil, fmt.Errorf("%s: decoding the %s image: %w", name, format, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		release()
		return nil, nil, fmt.Errorf("%s: the %s decoder gave a %d x %d image for a %d x %d header", name, format, b.Dx(), b.Dy(), w, h)
	}
	return img, release, nil
}

// safely runs f, turning a panic into an error: the decoders of other
// packages must not bring the process down on a hostile file.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder failed: %v", r)
		}
	}()
	return f()
}
