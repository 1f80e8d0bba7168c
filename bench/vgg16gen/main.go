// Command vgg16gen writes a VGG-16-shaped safetensors file for the
// data-free compression benchmark (bench/vgg16_datafree.sh), and checks
// and times what the benchmark needs:
//
//	vgg16gen -out vgg16.safetensors [-seed 1] [-dtype f32|f16|bf16]
//	vgg16gen -verify ORIG.safetensors FILE.dcz DECODED.safetensors
//	vgg16gen -time-fc6 ORIG.safetensors
//
// The file holds the 16 weight tensors of VGG-16 (Simonyan and Zisserman,
// 2015; 138,357,544 parameters) with their biases, named as in the Deep
// Compression paper: conv1_1.weight [64,3,3,3], conv1_1.bias [64], ...,
// conv5_3.weight [512,512,3,3], fc6.weight [4096,25088], fc7.weight
// [4096,4096], fc8.weight [1000,4096] and their biases (PyTorch layouts).
// The weights are synthetic but bell-shaped as trained ones are: the
// convolutions Gaussian, the fully connected layers Laplacian (heavier
// tailed), each with the He standard deviation sqrt(2/fan_in); biases are
// Gaussian with standard deviation 0.01. Values are seeded per block of
// 2^20, so the file depends only on -seed and -dtype, whatever the cores.
//
// -verify runs datafree.Verify; -time-fc6 times the pruning and k-means of
// fc6 at the paper's settings (4 % kept, 5 bits).
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/safetensors"
)

func main() {
	out := flag.String("out", "", "safetensors file to write")
	seed := flag.Uint64("seed", 1, "random seed")
	dtype := flag.String("dtype", "f32", "element type: f32, f16 or bf16")
	verify := flag.Bool("verify", false, "check ORIG FILE.dcz DECODED (arguments) with datafree.Verify")
	timeFC6 := flag.String("time-fc6", "", "time pruning and k-means of fc6.weight in this file")
	flag.Parse()
	var err error
	switch {
	case *verify:
		err = runVerify(flag.Args())
	case *timeFC6 != "":
		err = runTimeFC6(*timeFC6)
	case *out != "":
		err = generate(*out, *seed, *dtype)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vgg16gen:", err)
		os.Exit(1)
	}
}

// layer is one VGG-16 layer with parameters.
type layer struct {
	name        string
	out, in, kh int // kh = 0 for a fully connected layer
}

func (l layer) weightShape() []int {
	if l.kh == 0 {
		return []int{l.out, l.in}
	}
	return []int{l.out, l.in, l.kh, l.kh}
}

func (l layer) fanIn() int { return l.in * max(l.kh, 1) * max(l.kh, 1) }

// vgg16 lists the layers: 13 convolutions of 3x3 and 3 fully connected.
func vgg16() []layer {
	channels := []int{3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512}
	names := []string{"1_1", "1_2", "2_1", "2_2", "3_1", "3_2", "3_3", "4_1", "4_2", "4_3", "5_1", "5_2", "5_3"}
	var ls []layer
	for i, n := range names {
		ls = append(ls, layer{name: "conv" + n, out: channels[i+1], in: channels[i], kh: 3})
	}
	return append(ls, layer{"fc6", 4096, 512 * 7 * 7, 0}, layer{"fc7", 4096, 4096, 0}, layer{"fc8", 1000, 4096, 0})
}

func generate(path string, seed uint64, dtypeArg string) error {
	dt, ok := map[string]safetensors.DType{"f32": safetensors.F32, "f16": safetensors.F16, "bf16": safetensors.BF16}[dtypeArg]
	if !ok {
		return fmt.Errorf("-dtype %q: want f32, f16 or bf16", dtypeArg)
	}
	start := time.Now()
	layers := vgg16()
	var infos []safetensors.Info
	for _, l := range layers {
		infos = append(infos,
			safetensors.Info{Name: l.name + ".weight", DType: dt, Shape: l.weightShape()},
			safetensors.Info{Name: l.name + ".bias", DType: dt, Shape: []int{l.out}})
	}
	meta := map[string]string{"generator": "deepcompress bench/vgg16gen", "seed": strconv.FormatUint(seed, 10)}
	w, err := safetensors.Create(path, meta, infos)
	if err != nil {
		return err
	}
	params := 0
	for i, info := range infos {
		l := layers[i/2]
		n := 1
		for _, d := range info.Shape {
			n *= d
		}
		var data []float32
		if i%2 == 0 {
			std := math.Sqrt(2 / float64(l.fanIn()))
			data = fill(n, seed, uint64(i), std, l.kh == 0)
		} else {
			data = fill(n, seed, uint64(i), 0.01, false)
		}
		params += n
		if err := w.WriteTensor(info.Name, data); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d tensors, %d parameters, %s, in %.1fs\n", path, len(infos), params, dt, time.Since(start).Seconds())
	return nil
}

// fill returns n values with mean 0 and the given standard deviation,
// Laplacian or Gaussian, generated in parallel blocks each seeded by
// (seed, tensor, block).
func fill(n int, seed, tensor uint64, std float64, laplace bool) []float32 {
	const block = 1 << 20
	v := make([]float32, n)
	blocks := (n + block - 1) / block
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for b := range next {
				r := rand.New(rand.NewPCG(seed, tensor<<32|uint64(b)))
				for i := b * block; i < min(n, (b+1)*block); i++ {
					if laplace { // scale std/sqrt(2) gives variance std^2
						x := r.ExpFloat64() * std / math.Sqrt2
						if r.Uint64()&1 == 0 {
							x = -x
						}
						v[i] = float32(x)
					} else {
						v[i] = float32(r.NormFloat64() * std)
					}
				}
			}
		})
	}
	for b := range blocks {
		next <- b
	}
	close(next)
	wg.Wait()
	return v
}

func runVerify(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("-verify wants ORIG.safetensors FILE.dcz DECODED.safetensors")
	}
	start := time.Now()
	res, err := datafree.Verify(args[0], args[1], args[2])
	if err != nil {
		return err
	}
	fmt.Printf("verify: OK in %.1fs: %d tensors (%d compressed), %d of %d weights kept; decoded values equal the shared values bit for bit; largest |w - shared(w)| %.3g\n",
		time.Since(start).Seconds(), res.Tensors, res.Layers, res.Kept, res.Weights, res.MaxError)
	return nil
}

// runTimeFC6 times fc6 at the paper's settings two ways: datafree's
// streaming path from the file (radix-select pruning, then k-means on the
// survivors), and the k-means step alone as quantize.QuantizeTensor on the
// pruned dense tensor in memory; both must give the same codebook.
func runTimeFC6(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	s := datafree.Setting{Keep: 0.04, Bits: 5, IndexBits: 5}
	start := time.Now()
	l, err := datafree.ShareTensor(f, st.Size(), "fc6.weight", s, 0)
	if err != nil {
		return err
	}
	streamed := time.Since(start)

	rd, err := safetensors.NewReader(f, st.Size())
	if err != nil {
		return err
	}
	t, err := rd.ReadTensor("fc6.weight")
	if err != nil {
		return err
	}
	// Prune to the same survivors: zero all but the positions kept.
	next := 0
	for i := range t.Data {
		if next < len(l.Pos) && int(l.Pos[next]) == i {
			next++
		} else {
			t.Data[i] = 0
		}
	}
	start = time.Now()
	q, err := quantize.QuantizeTensor(t.Name, t.Shape, t.Data, quantize.Options{Bits: 5})
	if err != nil {
		return err
	}
	kmeans := time.Since(start)
	if len(q.Codebook) != len(l.Codebook) || len(q.Pos) != len(l.Pos) {
		return fmt.Errorf("QuantizeTensor found %d values for %d survivors, the streaming path %d for %d", len(q.Codebook), len(q.Pos), len(l.Codebook), len(l.Pos))
	}
	for i := range q.Codebook {
		if q.Codebook[i] != l.Codebook[i] {
			return fmt.Errorf("QuantizeTensor's shared value %d is %v, the streaming path's %v", i, q.Codebook[i], l.Codebook[i])
		}
	}
	n := len(t.Data)
	fmt.Printf("fc6 (%d weights, %d kept = %.2f%%, 5 bits, %d cores): prune + k-means streamed from the file %.2fs; k-means alone (quantize.QuantizeTensor on the pruned tensor in memory) %.2fs; same codebook\n",
		n, len(l.Pos), 100*float64(len(l.Pos))/float64(n), runtime.GOMAXPROCS(0), streamed.Seconds(), kmeans.Seconds())
	return nil
}
