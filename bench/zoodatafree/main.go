// Command zoodatafree measures data-free compression of the zoo models
// (issue 15, acceptance 2) against plain per-tensor int8: for each model
// it runs the original graph, the int8 baseline (datafree.Int8Baseline)
// and the graph decoded from each data-free .dcz file (written, read back
// with dcz.ReadFile and WithWeights) on the 10,000 test images, and prints
// one markdown table row per file: bytes, ratio against the float32
// parameters, and fidelity. Classifiers: test accuracy, top-1 agreement
// with the original, relative L2 error of the logits. The U-Net: relative
// L2 error of the output map against the original's, and mean |map -
// clean| (the manifest's metric). bench/zoo_datafree.sh runs it.
//
//	zoodatafree -model testdata/zoo/resnet_op17.onnx -x bench/zoo/data/mnist_test_x.npy -y bench/zoo/data/mnist_test_y.npy
//	zoodatafree -model testdata/zoo/unet_op17.onnx -x bench/zoo/data/unet_test_noisy_x.npy -clean bench/zoo/data/unet_test_clean.npy
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/deepcompress/deepcompress/datafree"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/engine"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/npy"
	"github.com/deepcompress/deepcompress/onnx"
)

func main() {
	model := flag.String("model", "testdata/zoo/resnet_op17.onnx", "ONNX model")
	xPath := flag.String("x", "bench/zoo/data/mnist_test_x.npy", "test inputs (float32 .npy, preprocessed)")
	yPath := flag.String("y", "", "test labels (int64 .npy), for a classifier")
	cleanPath := flag.String("clean", "", "clean targets (float32 .npy), for the U-Net")
	settings := flag.String("settings", "default;b8;b8,h;b7;b6;b5;b8,u;b7,u;b7,m1;fit;fit0.9;b7,k0.7;b6,k0.5",
		"data-free settings separated by ';': 'default' or comma-separated bN (bits), kF (keep), qF (quality), iN (index bits), mN (min-size), u (uniform grid), h (float16 codebooks), r (float16 raw tensors), 'default' may lead; or fit[F]: datafree.FitGraph to F times the int8 file's size")
	half := flag.Bool("half", false, "also measure each setting with float16 codebooks, and with float16 codebooks and raw tensors")
	dir := flag.String("dir", os.TempDir(), "directory for the .dcz files")
	batch := flag.Int("batch", 500, "images per forward pass")
	flag.Parse()
	if err := run(*model, *xPath, *yPath, *cleanPath, *settings, *dir, *batch, *half); err != nil {
		fmt.Fprintln(os.Stderr, "zoodatafree:", err)
		os.Exit(1)
	}
}

// eval holds the data and the original model's outputs.
type eval struct {
	x      []float32
	shape  []int
	labels []int64
	clean  []float32
	orig   []float32
	batch  int
}

// fidelity is what one model scores.
type fidelity struct {
	acc, agree, rel, mae float64
}

func run(modelPath, xPath, yPath, cleanPath, settings, dir string, batch int, half bool) error {
	g, err := onnx.ImportGraphFile(modelPath)
	if err != nil {
		return err
	}
	e := &eval{batch: batch}
	if e.shape, e.x, err = npy.ReadFloat32File(xPath); err != nil {
		return err
	}
	if yPath != "" {
		f, err := os.Open(yPath)
		if err != nil {
			return err
		}
		_, e.labels, err = npy.ReadInt64(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if cleanPath != "" {
		if _, e.clean, err = npy.ReadFloat32File(cleanPath); err != nil {
			return err
		}
	}
	if e.orig, err = e.outputs(g); err != nil {
		return err
	}
	var floats int64
	for _, t := range g.Params {
		if t.DType == graph.Float32 {
			floats += int64(len(t.F))
		}
	}
	dense := 4 * floats
	name := strings.TrimSuffix(filepath.Base(modelPath), ".onnx")
	fmt.Printf("\n%s: %d float parameters (%d bytes as float32), %d test inputs\n\n", name, floats, dense, e.shape[0])
	fmt.Printf("| file | bytes | ratio | %s |\n|---|---:|---:|%s\n", e.header(), strings.Repeat("---|", strings.Count(e.header(), "|")+1))
	origFid := e.score(e.orig)
	fmt.Printf("| original float32 | %d | 1.0x | %s |\n", dense, e.format(origFid))

	q, qBytes, err := datafree.Int8Baseline(g)
	if err != nil {
		return err
	}
	out, err := e.outputs(q)
	if err != nil {
		return err
	}
	fmt.Printf("| int8 per tensor (computed size) | %d | %.2fx | %s |\n", qBytes, float64(dense)/float64(qBytes), e.format(e.score(out)))

	for _, s := range strings.Split(settings, ";") {
		variants := []int{0}
		if half {
			variants = append(variants, 1, 2)
		}
		for _, h := range variants {
			var opt datafree.Options
			var label string
			suffix := []string{"", " +f16cb", " +f16cb +f16raw"}[h]
			opt.HalfCodebooks, opt.HalfRaw = h >= 1, h >= 2
			if frac, ok := strings.CutPrefix(strings.TrimSpace(s), "fit"); ok {
				// fit[F]: datafree.FitGraph to F (default 1) times the int8 size.
				f := 1.0
				if frac != "" {
					if f, err = strconv.ParseFloat(frac, 64); err != nil {
						return fmt.Errorf("setting %q: %v", s, err)
					}
				}
				// Fitted with float32 storage, so that the float16
				// variants store the same choices in fewer bytes.
				cfg, _, err := datafree.FitGraph(g, datafree.Options{}, int64(f*float64(qBytes)))
				if err != nil {
					return err
				}
				opt.Config, label = cfg, fmt.Sprintf("fitted to %g x the int8 size", f)+suffix
			} else {
				set, l, err := parseSetting(s)
				if err != nil {
					return err
				}
				if h > 0 && (set.HalfCodebooks || set.HalfRaw) {
					continue
				}
				set.HalfCodebooks, set.HalfRaw = set.HalfCodebooks || opt.HalfCodebooks, set.HalfRaw || opt.HalfRaw
				opt, label = set, l+suffix
			}
			path := filepath.Join(dir, name+"-"+strings.NewReplacer(",", "", " ", "", "+", "").Replace(label)+".dcz")
			res, err := datafree.CompressGraphFile(modelPath, path, opt)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			m, err := dcz.ReadFile(path)
			if err != nil {
				return err
			}
			dg, err := m.WithWeights()
			if err != nil {
				return err
			}
			out, err := e.outputs(dg)
			if err != nil {
				return err
			}
			var cb, cb16, shared, raw16, vals16 int
			for _, t := range res.Tensors {
				switch {
				case !t.Raw:
					cb += t.Codebook
					shared++
					if t.Half {
						cb16 += t.Codebook
					}
				case t.Half:
					raw16++
					vals16 += t.Weights
				}
			}
			st, _ := os.Stat(path)
			fmt.Printf("| data-free %s | %d | %.2fx | %s | %d shared tensors, %d codebook entries (%d in float16); %d raw tensors (%d values) in float16 |\n",
				label, st.Size(), float64(dense)/float64(st.Size()), e.format(e.score(out)), shared, cb, cb16, raw16, vals16)
			os.Remove(path)
		}
	}
	return nil
}

// parseSetting reads one -settings entry.
func parseSetting(s string) (datafree.Options, string, error) {
	var opt datafree.Options
	s = strings.TrimSpace(s)
	var parts []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "default" {
			parts = append(parts, "default (8-bit conv, 5-bit fc)")
			continue
		}
		if f == "r" {
			opt.HalfRaw = true
			parts = append(parts, "f16raw")
			continue
		}
		if f == "u" {
			opt.Config.Default.Grid = datafree.GridUniform
			parts = append(parts, "uniform")
			continue
		}
		if f == "h" {
			opt.HalfCodebooks = true
			parts = append(parts, "f16cb")
			continue
		}
		if len(f) < 2 {
			return opt, "", fmt.Errorf("setting %q: bad field %q", s, f)
		}
		v, err := strconv.ParseFloat(f[1:], 64)
		if err != nil {
			return opt, "", fmt.Errorf("setting %q: %v", s, err)
		}
		d := &opt.Config.Default
		switch f[0] {
		case 'b':
			d.Bits = int(v)
			parts = append(parts, fmt.Sprintf("%d bits", int(v)))
		case 'k':
			d.Keep = v
			parts = append(parts, fmt.Sprintf("keep %g", v))
		case 'q':
			d.Quality = v
			parts = append(parts, fmt.Sprintf("quality %g", v))
		case 'm':
			opt.Config.MinSize = int(v)
			parts = append(parts, fmt.Sprintf("min-size %d", int(v)))
		case 'i':
			d.IndexBits = int(v)
			parts = append(parts, fmt.Sprintf("%d index bits", int(v)))
		default:
			return opt, "", fmt.Errorf("setting %q: unknown field %q", s, f)
		}
	}
	return opt, strings.Join(parts, ", "), nil
}

// outputs runs g on every test input, batch by batch, and returns the
// single output, concatenated.
func (e *eval) outputs(g *graph.Graph) ([]float32, error) {
	m, err := engine.New(g, engine.Options{})
	if err != nil {
		return nil, err
	}
	n := e.shape[0]
	per := len(e.x) / n
	var out []float32
	for lo := 0; lo < n; lo += e.batch {
		hi := min(n, lo+e.batch)
		shape := append([]int{hi - lo}, e.shape[1:]...)
		res, err := m.Run(map[string]*graph.Tensor{g.Inputs[0].Name: graph.NewFloat(shape, e.x[lo*per:hi*per])})
		if err != nil {
			return nil, err
		}
		out = append(out, res[g.Outputs[0].Name].F...)
	}
	return out, nil
}

func (e *eval) header() string {
	if e.labels != nil {
		return "test accuracy | top-1 agreement with the original | logits rel. L2 error | notes"
	}
	return "map rel. L2 error vs original | MAE vs clean | notes"
}

func (e *eval) format(f fidelity) string {
	if e.labels != nil {
		return fmt.Sprintf("%.2f %% | %.2f %% | %.4f", 100*f.acc, 100*f.agree, f.rel)
	}
	return fmt.Sprintf("%.4f | %.4f", f.rel, f.mae)
}

func (e *eval) score(out []float32) fidelity {
	var f fidelity
	var num, den float64
	for i := range out {
		d := float64(out[i] - e.orig[i])
		num += d * d
		den += float64(e.orig[i]) * float64(e.orig[i])
	}
	f.rel = math.Sqrt(num / den)
	if e.labels != nil {
		k := len(out) / len(e.labels)
		var right, agree int
		for i, y := range e.labels {
			a, b := argmax(out[i*k:(i+1)*k]), argmax(e.orig[i*k:(i+1)*k])
			if int64(a) == y {
				right++
			}
			if a == b {
				agree++
			}
		}
		f.acc = float64(right) / float64(len(e.labels))
		f.agree = float64(agree) / float64(len(e.labels))
	}
	if e.clean != nil {
		var s float64
		for i := range out {
			s += math.Abs(float64(out[i] - e.clean[i]))
		}
		f.mae = s / float64(len(out))
	}
	return f
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
