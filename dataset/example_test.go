package dataset_test

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/deepcompress/deepcompress/dataset"
)

// Load reads a folder with one sub-folder per class, preprocessed for a
// model whose input is declared [N, 1, 28, 28]; the MNIST statistics are
// added to the defaults that the shape gives. Split holds a fifth out to
// measure the compressed model's agreement with the original.
func ExampleLoad() {
	root, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(root)
	for i, class := range []string{"three", "one", "one", "seven", "three"} {
		img := image.NewGray(image.Rect(0, 0, 32, 32))
		for p := range img.Pix {
			img.Pix[p] = uint8(40 * i)
		}
		os.MkdirAll(filepath.Join(root, class), 0o755)
		f, _ := os.Create(filepath.Join(root, class, fmt.Sprintf("%d.png", i)))
		png.Encode(f, img)
		f.Close()
	}

	pre := dataset.DefaultFor([]int{-1, 1, 28, 28})
	pre.Mean, pre.Std = []float32{0.1307}, []float32{0.3081}
	set, err := dataset.Load(root, pre, dataset.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Len(), "samples of shape", set.Shape)
	fmt.Println("classes", set.Classes, "labels", set.Labels)
	fmt.Printf("first value %.4f\n", set.Sample(0)[0]) // (40/255 - 0.1307) / 0.3081

	train, held := dataset.Split(set, 0.2, 1)
	fmt.Println(train.Len(), "to train on,", held.Len(), "held out")

	js, _ := set.Pre.Marshal()
	fmt.Println(string(js))
	// Output:
	// 5 samples of shape [1 28 28]
	// classes [one seven three] labels [0 0 1 2 2]
	// first value 0.0849
	// 4 to train on, 1 held out
	// {"version":1,"height":28,"width":28,"channels":1,"order":"RGB","resize":"stretch","layout":"NCHW","scale":0.003921569,"mean":[0.1307],"std":[0.3081]}
}

// The agreement of a compressed classifier with its original on three
// inputs, and of a segmentation map.
func ExampleCompare() {
	teacher := []float32{0.1, 0.7, 0.2 /**/, 0.5, 0.3, 0.2 /**/, 0.3, 0.3, 0.4}
	student := []float32{0.2, 0.6, 0.2 /**/, 0.4, 0.5, 0.1 /**/, 0.2, 0.3, 0.5}
	ag, _ := dataset.Compare(student, teacher, []int{3})
	fmt.Printf("top-1 agreement %.3f, relative error %.3f\n", ag.Top1, ag.RelError)

	iou, _ := dataset.IoU([]float32{0.9, 0.8, 0.2, 0.6}, []float32{0.95, 0.7, 0.1, 0.4}, dataset.DefaultThreshold)
	fmt.Printf("IoU %.3f\n", iou)
	// Output:
	// top-1 agreement 0.667, relative error 0.282
	// IoU 0.667
}
