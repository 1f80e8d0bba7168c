package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/mnist"
)

// IDX magic numbers of uint8 images [N, rows, cols] and uint8 labels [N].
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// idxFile returns dir/name or dir/name.gz, whichever exists, else "".
func idxFile(dir, name string) string {
	for _, n := range []string{name, name + ".gz"} {
		if p := filepath.Join(dir, n); isFile(p) {
			return p
		}
	}
	return ""
}

// idxPair says which IDX images file of dir to read: which = "train",
// "test", or "" for train when present, else test.
func idxPair(dir, which string) (string, bool) {
	switch strings.ToLower(which) {
	case "train":
		return "train", idxFile(dir, mnist.TrainImagesFile) != ""
	case "test":
		return "test", idxFile(dir, mnist.TestImagesFile) != ""
	case "":
		if idxFile(dir, mnist.TrainImagesFile) != "" {
			return "train", true
		}
		if idxFile(dir, mnist.TestImagesFile) != "" {
			return "test", true
		}
	}
	return "", false
}

// loadIDXDir reads the train (or test) pair of an MNIST-style folder.
func loadIDXDir(dir string, pre Preprocess, opt Options) (*Set, error) {
	which, ok := idxPair(dir, opt.IDXSet)
	if !ok {
		if w := strings.ToLower(opt.IDXSet); w != "train" && w != "test" {
			return nil, fmt.Errorf("dataset: IDX set %q: want train or test", opt.IDXSet)
		}
		return nil, fmt.Errorf("dataset: %s has no %s IDX images file (%s or %s, optionally .gz)",
			dir, opt.IDXSet, mnist.TrainImagesFile, mnist.TestImagesFile)
	}
	imagesName, labelsName, load := mnist.TrainImagesFile, mnist.TrainLabelsFile, mnist.LoadTrain
	if which == "test" {
		imagesName, labelsName, load = mnist.TestImagesFile, mnist.TestLabelsFile, mnist.LoadTest
	}
	if opt.Labels != "" || idxFile(dir, labelsName) == "" {
		return loadIDXFile(idxFile(dir, imagesName), pre, opt)
	}
	ms, err := load(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	labels := make([]int, ms.N)
	for i, l := range ms.Labels {
		labels[i] = int(l)
	}
	return fromMNIST(dir, ms, labels, pre, opt)
}

// siblingIDXLabels names the labels file of an images file by the
// standard convention, NAME-images-idx3-ubyte[.gz] ->
// NAME-labels-idx1-ubyte[.gz], when it exists (plain or gzipped).
func siblingIDXLabels(path string) string {
	dir, base := filepath.Split(path)
	base = strings.TrimSuffix(base, ".gz")
	if !strings.Contains(base, "images-idx3-ubyte") {
		return ""
	}
	return idxFile(dir, strings.Replace(base, "images-idx3-ubyte", "labels-idx1-ubyte", 1))
}

// loadIDXFile reads one IDX images file, with labels from Options.Labels
// (IDX or .npy), from the sibling labels file, or none. The file is parsed
// by package mnist, which reads the standard names in a folder: the files
// are linked under those names in a temporary folder.
func loadIDXFile(path string, pre Preprocess, opt Options) (*Set, error) {
	lp := opt.Labels
	if lp == "" {
		lp = siblingIDXLabels(path)
	}
	if opt.NoLabels {
		lp = ""
	}
	npyLabels := false
	if lp != "" {
		kind, err := sniff(lp)
		if err != nil {
			return nil, err
		}
		switch kind {
		case "npy":
			npyLabels = true
		case "idx-labels":
		default:
			return nil, fmt.Errorf("dataset: labels %s are neither an IDX labels file nor a .npy file", lp)
		}
	}
	tmp, err := os.MkdirTemp("", "deepcompress-idx-")
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer os.RemoveAll(tmp)
	imgLink, labLink := filepath.Join(tmp, mnist.TrainImagesFile), filepath.Join(tmp, mnist.TrainLabelsFile)
	if err := link(path, imgLink); err != nil {
		return nil, err
	}
	if lp != "" && !npyLabels {
		if err := link(lp, labLink); err != nil {
			return nil, err
		}
	} else if err := writeBlankLabels(path, labLink); err != nil {
		return nil, err
	}
	ms, err := mnist.LoadTrain(tmp)
	if err != nil {
		r := strings.NewReplacer(imgLink, path, labLink, lp, tmp, filepath.Dir(path))
		return nil, &renamedError{msg: "dataset: " + r.Replace(err.Error()), err: err}
	}
	var labels []int
	switch {
	case npyLabels:
		if labels, err = readNPYLabels(lp, ms.N); err != nil {
			return nil, err
		}
	case lp != "":
		labels = make([]int, ms.N)
		for i, l := range ms.Labels {
			labels[i] = int(l)
		}
	}
	return fromMNIST(path, ms, labels, pre, opt)
}

// renamedError is an error of package mnist with the temporary file names
// replaced by the user's; it unwraps to the original.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// link makes dst name the file src: a symbolic link, else a hard link.
func link(src, dst string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if err := os.Symlink(abs, dst); err != nil {
		if err2 := os.Link(abs, dst); err2 != nil {
			return fmt.Errorf("dataset: cannot link %s for reading: %w", src, err)
		}
	}
	return nil
}

// writeBlankLabels writes an IDX labels file of zeros, as many as the
// images file holds images, for package mnist to read an unlabelled file.
// The count is trusted only when the header's shape matches the data
// really present (so a lying header costs no more than its file); else
// one label is written and package mnist reports the images file's error.
func writeBlankLabels(images, dst string) error {
	n, err := idxImageCount(images)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [2]uint32{idxLabelsMagic, uint32(n)})
	b.Write(make([]byte, n))
	if err := os.WriteFile(dst, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}

// idxImageCount returns N of an IDX images file [N, rows, cols] when its
// data length matches, else 1.
func idxImageCount(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 1, nil
		}
		r = zr
	}
	var h [4]uint32
	if err := binary.Read(r, binary.BigEndian, &h); err != nil || h[0] != idxImagesMagic {
		return 1, nil
	}
	claimed, err := budget.Elems(int(h[1]), int(h[2]), int(h[3]))
	if err != nil || h[1] == 0 {
		return 1, nil
	}
	got, err := io.Copy(io.Discard, io.LimitReader(r, claimed+1))
	if err != nil || got != claimed {
		return 1, nil
	}
	return int(h[1]), nil
}

// fromMNIST preprocesses the images of an IDX set.
func fromMNIST(path string, ms *mnist.Set, labels []int, pre Preprocess, opt Options) (*Set, error) {
	if err := pre.Validate(); err != nil {
		return nil, err
	}
	pre = pre.Normalize()
	idx := pick(ms.N, opt.Max, opt.Seed)
	src := arraySource{w: ms.Cols, h: ms.Rows, sc: 1, o: out{pre.Channels, pre.Order == BGR}}
	return applyArrays(path, len(idx), pre, opt, func(i int) arraySource {
		s := src
		s.u8 = ms.Image(idx[i])
		return s
	}, subsetLabels(labels, idx))
}
