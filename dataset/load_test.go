package dataset

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/npy"
)

var gray4 = Preprocess{Height: 4, Width: 4, Channels: 1, Scale: 1}

// sampleValue is the first value of sample i.
func sampleValue(s *Set, i int) float32 { return s.Sample(i)[0] }

func TestLoadFolderLabelled(t *testing.T) {
	root := t.TempDir()
	flat := func(v uint8) func(int, int) uint8 { return func(int, int) uint8 { return v } }
	writeFile(t, filepath.Join(root, "dog", "c.png"), encode(t, "png", grayImage(8, 8, flat(30))))
	writeFile(t, filepath.Join(root, "cat", "b.JPG"), encode(t, "jpeg", grayImage(5, 7, flat(20))))
	writeFile(t, filepath.Join(root, "cat", "a.png"), encode(t, "png", rgbImage(4, 4, color.NRGBA{10, 10, 10, 255})))
	writeFile(t, filepath.Join(root, "dog", "sub", "d.gif"), encode(t, "gif", palettedImage(3, 3, color.Gray{40})))
	writeFile(t, filepath.Join(root, "dog", "e.bmp"), encode(t, "bmp", grayImage(4, 4, flat(50))))
	writeFile(t, filepath.Join(root, "notes.txt"), []byte("not an image"))
	writeFile(t, filepath.Join(root, "cat", ".DS_Store"), []byte{0, 1, 2})
	writeFile(t, filepath.Join(root, "cat", "labels.csv"), []byte("a,0"))
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	s, err := Load(root, gray4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 5 || !reflect.DeepEqual(s.Shape, []int{1, 4, 4}) || len(s.X) != 5*16 {
		t.Fatalf("len %d shape %v values %d", s.Len(), s.Shape, len(s.X))
	}
	if !reflect.DeepEqual(s.Classes, []string{"cat", "dog", "empty"}) || !reflect.DeepEqual(s.Labels, []int{0, 0, 1, 1, 1}) {
		t.Errorf("classes %v labels %v", s.Classes, s.Labels)
	}
	var names []string
	for _, n := range s.Names {
		names = append(names, filepath.ToSlash(strings.TrimPrefix(n, root)))
	}
	if want := []string{"/cat/a.png", "/cat/b.JPG", "/dog/c.png", "/dog/e.bmp", "/dog/sub/d.gif"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	for i, v := range []float32{10, 20, 30, 50, 40} {
		allNear(t, s.Names[i], s.Sample(i), constant(16, v), 1.5) // JPEG within 1.5 of its value
	}
	if len(s.Skipped) != 3 {
		t.Errorf("skipped %q, want notes.txt, .DS_Store, labels.csv", s.Skipped)
	}
	if s.Pre == nil || s.Pre.Scale != 1 || s.Pre.Layout != NCHW {
		t.Errorf("Pre = %+v", s.Pre)
	}

	// NoLabels reads every image below the folder, unlabelled.
	u, err := Load(root, gray4, Options{NoLabels: true})
	if err != nil || u.Len() != 5 || u.Labels != nil || u.Classes != nil {
		t.Fatalf("NoLabels: %v %+v", err, u)
	}
	// Images beside class folders are an error that says what to do.
	writeFile(t, filepath.Join(root, "stray.png"), encode(t, "png", grayImage(2, 2, flat(1))))
	if _, err := Load(root, gray4, Options{}); err == nil || !strings.Contains(err.Error(), "stray.png") || !strings.Contains(err.Error(), "class") {
		t.Errorf("mixed folder: %v", err)
	}
}

func TestLoadFolderUnlabelled(t *testing.T) {
	root := t.TempDir()
	for i := range 10 {
		v := uint8(10 * i)
		writeFile(t, filepath.Join(root, fmt.Sprintf("img%02d.png", i)), encode(t, "png", grayImage(6, 6, func(int, int) uint8 { return v })))
	}
	s, err := Load(root, gray4, Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 10 || s.Labels != nil || s.Classes != nil || len(s.Skipped) != 0 {
		t.Fatalf("%d samples, labels %v classes %v skipped %v", s.Len(), s.Labels, s.Classes, s.Skipped)
	}
	for i := range 10 {
		if !near(float64(sampleValue(s, i)), float64(10*i), 1e-3) || filepath.Base(s.Names[i]) != fmt.Sprintf("img%02d.png", i) {
			t.Fatalf("sample %d: %v from %s", i, sampleValue(s, i), s.Names[i])
		}
	}
	// Max keeps a seeded random subset, in sorted order, the same every time.
	a, err := Load(root, gray4, Options{Max: 4, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load(root, gray4, Options{Max: 4, Seed: 7, Workers: 1})
	c, _ := Load(root, gray4, Options{Max: 4, Seed: 8})
	if a.Len() != 4 || !reflect.DeepEqual(a.Names, b.Names) || !reflect.DeepEqual(a.X, b.X) || !slices.IsSorted(a.Names) {
		t.Errorf("Max: %v vs %v", a.Names, b.Names)
	}
	if reflect.DeepEqual(a.Names, c.Names) {
		t.Errorf("seeds 7 and 8 picked the same %v", a.Names)
	}
	for i, n := range a.Names {
		j := slices.Index(s.Names, n)
		if !reflect.DeepEqual(a.Sample(i), s.Sample(j)) {
			t.Errorf("subset sample %s differs", n)
		}
	}
	if _, err := Load(root, gray4, Options{Labels: "y.npy"}); err == nil || !strings.Contains(err.Error(), "class sub-folders") {
		t.Errorf("Labels with a folder: %v", err)
	}
	// A single image file is a set of one.
	one, err := Load(filepath.Join(root, "img03.png"), gray4, Options{})
	if err != nil || one.Len() != 1 || sampleValue(one, 0) != 30 {
		t.Errorf("single image: %v %+v", err, one)
	}
}

func TestLoadFolderBadFiles(t *testing.T) {
	good := encode(t, "png", grayImage(4, 4, func(int, int) uint8 { return 9 }))
	jpg := encode(t, "jpeg", grayImage(64, 64, func(x, y int) uint8 { return uint8(x * y) }))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"text.png", []byte("hello, not a PNG"), "not a readable image"},
		{"truncated.png", good[:len(good)/2], "decoding the png image"},
		{"truncated.jpg", jpg[:len(jpg)/2], "decoding the jpeg image"},
		{"header-only.jpg", jpg[:200], "not a readable image"},
		{"empty.png", nil, "not a readable image"},
	} {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, "ok.png"), good)
		bad := writeFile(t, filepath.Join(root, c.name), c.data)
		_, err := Load(root, gray4, Options{})
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming the file and %q", c.name, err, c.want)
		}
		s, err := Load(root, gray4, Options{SkipBad: true})
		if err != nil || s.Len() != 1 || len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0], bad) {
			t.Errorf("%s with SkipBad: %v, skipped %q", c.name, err, s.Skipped)
		}
	}
	// Nothing readable at all.
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.png"), []byte("x"))
	if _, err := Load(root, gray4, Options{SkipBad: true}); err == nil || !strings.Contains(err.Error(), "no image") {
		t.Errorf("all bad: %v", err)
	}
	writeFile(t, filepath.Join(root, "a.png"), []byte("x"))
	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, "readme.md"), []byte("x"))
	if _, err := Load(empty, gray4, Options{}); err == nil || !strings.Contains(err.Error(), "holds no images") || !strings.Contains(err.Error(), "readme.md") {
		t.Errorf("no images: %v", err)
	}
	if _, err := Load(filepath.Join(empty, "readme.md"), gray4, Options{}); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("unknown file: %v", err)
	}
	if _, err := Load(filepath.Join(empty, "missing"), gray4, Options{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := Load(empty, Preprocess{}, Options{}); err == nil || !strings.Contains(err.Error(), "preprocessing") {
		t.Errorf("no preprocessing: %v", err)
	}
}

func TestLoadHostileImages(t *testing.T) {
	root := t.TempDir()
	huge := writeFile(t, filepath.Join(root, "huge.png"), hugePNG(100000, 100000))
	start := time.Now()
	_, err := Load(root, gray4, Options{})
	if err == nil || !strings.Contains(err.Error(), huge) || !strings.Contains(err.Error(), "100000 x 100000") || !strings.Contains(err.Error(), "MaxPixels") {
		t.Errorf("huge PNG: %v", err)
	}
	// Past the pixel limit, the memory budget still refuses it.
	_, err = Load(root, gray4, Options{MaxPixels: 1 << 40})
	var ex *budget.ExceededError
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), huge) {
		t.Errorf("huge PNG, no pixel limit: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing took %v", d)
	}

	// A budget smaller than one image's decoding.
	root = t.TempDir()
	big := writeFile(t, filepath.Join(root, "big.png"), encode(t, "png", grayImage(512, 512, func(x, y int) uint8 { return uint8(x ^ y) })))
	_, err = Load(root, gray4, Options{Budget: budget.New(1 << 20)})
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), big) {
		t.Errorf("small budget: %v", err)
	}
	// And one too small for the inputs themselves.
	_, err = Load(root, Preprocess{Height: 1024, Width: 1024, Channels: 3}, Options{Budget: budget.New(4 << 20)})
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), "inputs") {
		t.Errorf("inputs over the budget: %v", err)
	}
	b := budget.New(64 << 20)
	if _, err := Load(root, gray4, Options{Budget: b, Workers: 4}); err != nil {
		t.Error(err)
	}
	if b.Used() != 0 {
		t.Errorf("%d bytes still reserved after Load", b.Used())
	}

	// A 1 x 1000000 image is legal: it is resized like any other.
	root = t.TempDir()
	thin := writeFile(t, filepath.Join(root, "thin.png"), encode(t, "png", grayImage(1, 1000000, func(int, int) uint8 { return 123 })))
	for _, mode := range []string{Stretch, Crop, Pad} {
		s, err := Load(root, Preprocess{Height: 28, Width: 28, Channels: 1, Scale: 1, Resize: mode}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		nonzero := 0
		for _, v := range s.X {
			if v != 0 {
				nonzero++
				if !near(float64(v), 123, 1e-2) {
					t.Fatalf("%s: value %v", mode, v)
				}
			}
		}
		if want := map[string]int{Stretch: 784, Crop: 784, Pad: 28}[mode]; nonzero != want {
			t.Errorf("%s: %d pixels of the image, want %d", mode, nonzero, want)
		}
	}
	if _, err := Load(root, gray4, Options{MaxPixels: 999999}); err == nil || !strings.Contains(err.Error(), thin) {
		t.Errorf("thin image over MaxPixels: %v", err)
	}
}

func writeNPY(t testing.TB, path string, write func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, b.Bytes())
}

func TestLoadNPYFloat(t *testing.T) {
	dir := t.TempDir()
	x := make([]float32, 5*4)
	for i := range x {
		x[i] = float32(i) - 0.5
	}
	path := filepath.Join(dir, "inputs.npy")
	if err := npy.WriteFile(path, []int{5, 1, 2, 2}, x); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path, Preprocess{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.X, x) || !reflect.DeepEqual(s.Shape, []int{1, 2, 2}) || s.Pre != nil || s.Labels != nil {
		t.Fatalf("%+v", s)
	}
	// The model's input size is checked when given.
	if _, err := Load(path, Preprocess{Height: 28, Width: 28, Channels: 1}, Options{}); err == nil || !strings.Contains(err.Error(), "784") {
		t.Errorf("size mismatch: %v", err)
	}
	if _, err := Load(path, Preprocess{Height: 2, Width: 2, Channels: 1}, Options{}); err != nil {
		t.Error(err)
	}
	// Labels beside it, by the STEM_labels.npy convention.
	writeNPY(t, filepath.Join(dir, "inputs_labels.npy"), func(b *bytes.Buffer) error {
		return npy.WriteInt64(b, []int{5}, []int64{3, 1, 4, 1, 5})
	})
	s, err = Load(path, Preprocess{}, Options{})
	if err != nil || !reflect.DeepEqual(s.Labels, []int{3, 1, 4, 1, 5}) {
		t.Fatalf("sibling labels: %v %v", err, s.Labels)
	}
	s, _ = Load(path, Preprocess{}, Options{NoLabels: true})
	if s.Labels != nil {
		t.Error("NoLabels kept labels")
	}
	// Max: a subset, labels and values together.
	s, err = Load(path, Preprocess{}, Options{Max: 2, Seed: 3})
	if err != nil || s.Len() != 2 {
		t.Fatal(err)
	}
	for i := range 2 {
		j := int(s.Sample(i)[0]+0.5) / 4
		if s.Labels[i] != []int{3, 1, 4, 1, 5}[j] {
			t.Errorf("subset: sample %d (row %d) has label %d", i, j, s.Labels[i])
		}
	}
	// Explicit labels: [N, 1] floats holding integers are accepted.
	lab := writeNPY(t, filepath.Join(dir, "y.npy"), func(b *bytes.Buffer) error {
		return npy.WriteFloat32(b, []int{5, 1}, []float32{0, 1, 0, 1, 0})
	})
	s, err = Load(path, Preprocess{}, Options{Labels: lab})
	if err != nil || !reflect.DeepEqual(s.Labels, []int{0, 1, 0, 1, 0}) {
		t.Errorf("explicit labels: %v %v", err, s.Labels)
	}
	for _, c := range []struct {
		write func(*bytes.Buffer) error
		want  string
	}{
		{func(b *bytes.Buffer) error { return npy.WriteInt64(b, []int{4}, []int64{1, 2, 3, 4}) }, "4 labels for 5 samples"},
		{func(b *bytes.Buffer) error { return npy.WriteInt64(b, []int{5}, []int64{1, 2, -1, 4, 0}) }, "label -1 at index 2"},
		{func(b *bytes.Buffer) error { return npy.WriteInt64(b, []int{5, 2}, make([]int64, 10)) }, "shape"},
		{func(b *bytes.Buffer) error { return npy.WriteFloat32(b, []int{5}, []float32{0, 1, 0.5, 1, 0}) }, "integer"},
	} {
		lab := writeNPY(t, filepath.Join(dir, "bad.npy"), c.write)
		if _, err := Load(path, Preprocess{}, Options{Labels: lab}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("bad labels: %v, want %q", err, c.want)
		}
	}
	// Arrays that are not inputs.
	for _, c := range []struct {
		data []byte
		want string
	}{
		{npyBytes("<i2", []int{2, 2}, make([]byte, 8)), "<i2"},
		{npyBytes("<f4", []int{3}, make([]byte, 12)), "[N, ...]"},
		{npyBytes("<f4", []int{0, 3}, nil), "N >= 1"},
		{npyBytes("|u1", []int{2, 5}, make([]byte, 10)), "[N H W]"},
		{npyBytes("|u1", []int{2, 5, 6, 7}, make([]byte, 420)), "no channel dimension"},
		{npyBytes("<f4", []int{2, 3}, make([]byte, 10)), "npy"}, // truncated
	} {
		p := writeFile(t, filepath.Join(dir, "arr.npy"), c.data)
		if _, err := Load(p, gray4, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.want, err, c.want)
		}
	}
}

func TestLoadNPYImages(t *testing.T) {
	dir := t.TempDir()
	// Two 2 x 3 RGB images; pixel (y, x) of image n has channel c = 100n + 10y + x + c... kept small.
	const N, H, W = 2, 2, 5
	val := func(n, y, x, c int) uint8 { return uint8(100*n + 20*c + 3*y + x) }
	hwc := make([]byte, 0, N*H*W*3)
	chw := make([]byte, 0, N*H*W*3)
	for n := range N {
		for y := range H {
			for x := range W {
				for c := range 3 {
					hwc = append(hwc, val(n, y, x, c))
				}
			}
		}
		for c := range 3 {
			for y := range H {
				for x := range W {
					chw = append(chw, val(n, y, x, c))
				}
			}
		}
	}
	pre := Preprocess{Height: H, Width: W, Channels: 3, Scale: 1}
	want := make([]float32, 0, len(chw))
	for _, v := range chw {
		want = append(want, float32(v))
	}
	a := writeFile(t, filepath.Join(dir, "hwc.npy"), npyBytes("|u1", []int{N, H, W, 3}, hwc))
	b := writeFile(t, filepath.Join(dir, "chw.npy"), npyBytes("|u1", []int{N, 3, H, W}, chw))
	for _, p := range []string{a, b} {
		s, err := Load(p, pre, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Shape, []int{3, H, W}) || s.Pre == nil {
			t.Errorf("%s: shape %v", p, s.Shape)
		}
		allNear(t, p, s.X, want, 0)
	}
	// An ambiguous shape [N 3 H 3]: NHWC unless told.
	amb := writeFile(t, filepath.Join(dir, "amb.npy"), npyBytes("|u1", []int{1, 3, 4, 3}, make([]byte, 36)))
	s, err := Load(amb, Preprocess{Height: 3, Width: 4, Channels: 3}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Error(s.Len())
	}
	if _, err := Load(amb, Preprocess{Height: 3, Width: 4, Channels: 3}, Options{ArrayLayout: "nchw"}); err != nil {
		t.Error(err)
	}
	if _, err := Load(amb, gray4, Options{ArrayLayout: "CHW"}); err == nil || !strings.Contains(err.Error(), "layout") {
		t.Errorf("bad layout: %v", err)
	}
	// Grey [N H W], resized and converted to colour.
	g := writeFile(t, filepath.Join(dir, "g.npy"), npyBytes("|u1", []int{3, 5, 5}, bytes.Repeat([]byte{200}, 75)))
	s, err = Load(g, Preprocess{Height: 2, Width: 2, Channels: 3, Layout: NHWC}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	allNear(t, "grey", s.X, constant(36, 200.0/255), 1e-6)
	if !reflect.DeepEqual(s.Shape, []int{2, 2, 3}) {
		t.Errorf("shape %v", s.Shape)
	}
}

func writeIDX(t testing.TB, dir, name string, data []byte, gz bool) string {
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data, name = b.Bytes(), name+".gz"
	}
	return writeFile(t, filepath.Join(dir, name), data)
}

func TestLoadIDX(t *testing.T) {
	pix := []byte{0, 51, 102, 153, 204, 255, 10, 20, 30, 40, 50, 60}
	images := idxBytes(idxImagesMagic, []uint32{3, 2, 2}, pix)
	labels := idxBytes(idxLabelsMagic, []uint32{3}, []byte{7, 2, 9})
	dir := t.TempDir()
	writeIDX(t, dir, "train-images-idx3-ubyte", images, false)
	writeIDX(t, dir, "train-labels-idx1-ubyte", labels, false)
	writeIDX(t, dir, "t10k-images-idx3-ubyte", images[:len(images)-4], true) // 2 images declared 3: broken
	writeIDX(t, dir, "t10k-labels-idx1-ubyte", labels, true)
	pre := Preprocess{Height: 2, Width: 2, Channels: 1}
	want := make([]float32, len(pix))
	for i, p := range pix {
		want[i] = float32(p) / 255
	}
	s, err := Load(dir, pre, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Labels, []int{7, 2, 9}) || !reflect.DeepEqual(s.Shape, []int{1, 2, 2}) {
		t.Errorf("labels %v shape %v", s.Labels, s.Shape)
	}
	allNear(t, "idx", s.X, want, 0)
	if _, err := Load(dir, pre, Options{IDXSet: "test"}); err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte.gz") {
		t.Errorf("broken test set: %v", err)
	}
	if _, err := Load(dir, pre, Options{IDXSet: "val"}); err == nil || !strings.Contains(err.Error(), "train or test") {
		t.Errorf("bad IDXSet: %v", err)
	}
	if s, err := Load(dir, pre, Options{NoLabels: true, Max: 2}); err != nil || s.Labels != nil || s.Len() != 2 {
		t.Errorf("unlabelled dir: %v", err)
	}

	// A single images file, gzipped, with its sibling labels.
	one := t.TempDir()
	img := writeIDX(t, one, "fashion-images-idx3-ubyte", images, true)
	writeIDX(t, one, "fashion-labels-idx1-ubyte", labels, false)
	s, err = Load(img, pre, Options{})
	if err != nil || !reflect.DeepEqual(s.Labels, []int{7, 2, 9}) {
		t.Fatalf("single file with labels: %v %+v", err, s)
	}
	allNear(t, "idx file", s.X, want, 0)
	// Alone: unlabelled.
	alone := t.TempDir()
	img2 := writeIDX(t, alone, "digits.idx3", images, false)
	s, err = Load(img2, Preprocess{Height: 4, Width: 4, Channels: 3}, Options{})
	if err != nil || s.Labels != nil || s.Len() != 3 || !reflect.DeepEqual(s.Shape, []int{3, 4, 4}) {
		t.Fatalf("single file alone: %v %+v", err, s)
	}
	// With .npy labels.
	lab := writeNPY(t, filepath.Join(alone, "y.npy"), func(b *bytes.Buffer) error {
		return npy.WriteInt64(b, []int{3}, []int64{11, 12, 13})
	})
	s, err = Load(img2, pre, Options{Labels: lab})
	if err != nil || !reflect.DeepEqual(s.Labels, []int{11, 12, 13}) {
		t.Errorf("npy labels: %v %v", err, s)
	}
	// Errors name the user's files, not the temporary links.
	bad := writeIDX(t, alone, "short-images-idx3-ubyte", images[:len(images)-1], false)
	if _, err := Load(bad, pre, Options{}); err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "deepcompress-idx-") {
		t.Errorf("truncated IDX: %v", err)
	}
	lies := writeIDX(t, alone, "lies-images-idx3-ubyte", idxBytes(idxImagesMagic, []uint32{1 << 30, 28, 28}, pix), true)
	if _, err := Load(lies, pre, Options{}); err == nil || !strings.Contains(err.Error(), lies) {
		t.Errorf("lying IDX: %v", err)
	}
	labFile := writeIDX(t, alone, "x-labels-idx1-ubyte", labels, false)
	if _, err := Load(labFile, pre, Options{}); err == nil || !strings.Contains(err.Error(), "labels file") {
		t.Errorf("labels given as images: %v", err)
	}
	if _, err := Load(img2, pre, Options{Labels: img}); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("images given as labels: %v", err)
	}
}

func TestSplit(t *testing.T) {
	s := &Set{Shape: []int{1}, X: make([]float32, 10), Labels: make([]int, 10), Names: make([]string, 10)}
	for i := range 10 {
		s.X[i], s.Labels[i], s.Names[i] = float32(i), i%3, fmt.Sprint(i)
	}
	train, held := Split(s, 0.2, 42)
	if train.Len() != 8 || held.Len() != 2 {
		t.Fatalf("%d + %d", train.Len(), held.Len())
	}
	all := append(slices.Clone(train.X), held.X...)
	slices.Sort(all)
	if !reflect.DeepEqual(all, s.X) || !slices.IsSorted(train.X) || !slices.IsSorted(held.X) {
		t.Errorf("not a partition in order: %v | %v", train.X, held.X)
	}
	for _, part := range []*Set{train, held} {
		for i := range part.Len() {
			j := int(part.X[i])
			if part.Labels[i] != j%3 || part.Names[i] != fmt.Sprint(j) {
				t.Errorf("sample %v lost its label or name", j)
			}
		}
	}
	t2, h2 := Split(s, 0.2, 42)
	_, h3 := Split(s, 0.2, 43)
	if !reflect.DeepEqual(t2, train) || !reflect.DeepEqual(h2, held) {
		t.Error("same seed, different split")
	}
	if reflect.DeepEqual(h3.X, held.X) {
		t.Logf("seeds 42 and 43 hold out the same %v (possible, unlikely)", held.X)
	}
	for _, c := range []struct {
		frac      float64
		n, wantHo int
	}{{0, 10, 0}, {-1, 10, 0}, {1, 10, 10}, {2, 10, 10}, {0.01, 10, 1}, {0.99, 10, 9}, {0.5, 1, 0}, {0.5, 0, 0}} {
		sub := s.Subset(make([]int, c.n))
		tr, ho := Split(sub, c.frac, 1)
		if ho.Len() != c.wantHo || tr.Len() != c.n-c.wantHo {
			t.Errorf("Split(%d, %v) = %d + %d, want %d held out", c.n, c.frac, tr.Len(), ho.Len(), c.wantHo)
		}
	}
	// The permutation does not depend on the Go version: pinned values.
	if got := permutation(8, 1); !reflect.DeepEqual(got, pinnedPermutation) {
		t.Errorf("permutation(8, 1) = %v, want %v", got, pinnedPermutation)
	}
}

var pinnedPermutation = []int{0, 3, 1, 2, 4, 6, 5, 7}

// TestLoadMNISTMatchesPackage reads the real MNIST test set (when the
// GoMNIST module is in the module cache) with the mnist preset: the inputs
// must equal package mnist's Normalized bit for bit, the normalisation the
// reference models were evaluated with.
func TestLoadMNISTMatchesPackage(t *testing.T) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Fatal(err) // GoMNIST is a dependency of this module: the cache holds it
	}
	ms, err := mnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	pre, _ := Preset("mnist")
	s, err := Load(dir, pre, Options{IDXSet: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := ms.Normalized(mnist.Mean, mnist.Std)
	if s.Len() != 10000 || len(s.X) != len(want) {
		t.Fatalf("%d samples", s.Len())
	}
	for i := range want {
		if s.X[i] != want[i] {
			t.Fatalf("value %d: %v, package mnist %v", i, s.X[i], want[i])
		}
	}
	for i, l := range ms.Labels {
		if s.Labels[i] != int(l) {
			t.Fatalf("label %d: %d, want %d", i, s.Labels[i], l)
		}
	}
	if testing.Short() {
		return
	}
	// 5,000 unlabelled training images, as the acceptance reads them.
	start := time.Now()
	tr, err := Load(dir, pre, Options{Max: 5000, Seed: 1, NoLabels: true})
	if err != nil || tr.Len() != 5000 || tr.Labels != nil {
		t.Fatalf("train subset: %v", err)
	}
	t.Logf("5,000 of 60,000 training images in %v", time.Since(start))
}

// TestGateWaits: with a budget that holds one image's decoding at a time,
// parallel workers take turns instead of failing.
func TestGateWaits(t *testing.T) {
	root := t.TempDir()
	for i := range 8 {
		writeFile(t, filepath.Join(root, fmt.Sprintf("%d.png", i)), encode(t, "png", grayImage(100, 100, func(x, y int) uint8 { return uint8(x + y + i) })))
	}
	// One decode reserves 100*100*bytesPerPixel = 240,000 bytes; the inputs
	// 8*16*4 = 512.
	b := budget.New(300_000)
	s, err := Load(root, gray4, Options{Budget: b, Workers: 4})
	if err != nil || s.Len() != 8 {
		t.Fatalf("%v", err)
	}
	if b.Used() != 0 {
		t.Errorf("%d bytes left reserved", b.Used())
	}
}

func TestLoadSymlinkedClass(t *testing.T) {
	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "x.png"), encode(t, "png", grayImage(4, 4, func(int, int) uint8 { return 5 })))
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a", "y.png"), encode(t, "png", grayImage(4, 4, func(int, int) uint8 { return 6 })))
	if err := os.Symlink(elsewhere, filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	s, err := Load(root, gray4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Classes, []string{"a", "b"}) || !reflect.DeepEqual(s.Labels, []int{0, 1}) ||
		s.Names[1] != filepath.Join(root, "b", "x.png") || sampleValue(s, 1) != 5 {
		t.Errorf("classes %v labels %v names %v", s.Classes, s.Labels, s.Names)
	}
}

// TestWriteNPYRoundTrip: a folder of images, preprocessed and written as
// .npy inputs and labels, reads back as the same set.
func TestWriteNPYRoundTrip(t *testing.T) {
	root := t.TempDir()
	for i, class := range []string{"b", "a", "b"} {
		v := uint8(50 * i)
		writeFile(t, filepath.Join(root, "imgs", class, fmt.Sprintf("%d.png", i)), encode(t, "png", grayImage(9, 9, func(x, y int) uint8 { return v + uint8(x) })))
	}
	pre, _ := Preset("mnist")
	pre.Height, pre.Width = 5, 6
	s, err := Load(filepath.Join(root, "imgs"), pre, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "cache.npy")
	if err := s.WriteNPY(out); err != nil {
		t.Fatal(err)
	}
	back, err := Load(out, pre, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.X, s.X) || !reflect.DeepEqual(back.Shape, s.Shape) || !reflect.DeepEqual(back.Labels, s.Labels) {
		t.Errorf("round trip: shape %v labels %v, want %v %v", back.Shape, back.Labels, s.Shape, s.Labels)
	}
	// An unlabelled set refuses to leave stale labels beside its inputs.
	s.Labels = nil
	if err := s.WriteNPY(out); err == nil || !strings.Contains(err.Error(), "cache_labels.npy") {
		t.Errorf("stale labels: %v", err)
	}
	if err := s.WriteNPY(filepath.Join(root, "plain.npy")); err != nil {
		t.Error(err)
	}
	if err := s.WriteNPY(filepath.Join(root, "x.bin")); err == nil {
		t.Error(".bin accepted")
	}
}
