// Command ratelambda measures rate-aware weight sharing (the chain
// config's quantize.lambda, quantize.Options.Lambda) on an MNIST model:
// for each lambda it reruns only the quantize, fine-tune and encode stages
// of a chain recipe on the pruned checkpoint of a finished run, with the
// input model as the distillation teacher, exactly as `compress` does
// after its pruning, and prints the file's bytes, ratio and test error.
// Lambda 0 rewrites the same file as the full run (byte for byte), so
// every row shares that run's pruning.
//
//	deepcompress compress --model out/lenet300.safetensors --config bench/recipes/lenet300_max.json \
//	    --out /tmp/rl/full.dcz --half-codebooks --half-raw --coder auto --keep-work
//	nice go run ./bench/ratelambda -model out/lenet300.safetensors \
//	    -pruned /tmp/rl/full.dcz.work/pruned-round1.safetensors \
//	    -config bench/recipes/lenet300_max.json -half -coder auto \
//	    -lambda 0,0.01,0.03,0.1,0.3 [-bits fc1=4] -out /tmp/rl
//
// -bits replaces the recipe's quantize bits (by layer name or pattern);
// -layers applies lambda to the named layers only (default every layer);
// -lambda config runs the recipe's own (per-layer) quantize.lambda.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/mnist"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/pipeline"
)

type options struct {
	model, pruned, config, out, dataDir string
	lambdas                             []float64
	bits                                map[string]int
	layers                              []string
	seeds                               []uint64
	half                                bool
	dense                               int64 // bytes of the dense model, from the last run
	coder                               dcz.Coder
}

func main() {
	var o options
	var lambdas, bits, layers, seeds string
	flag.StringVar(&o.model, "model", "", "the input model (.safetensors): the teacher and the dense size")
	flag.StringVar(&o.pruned, "pruned", "", "pruned checkpoint of a compress --keep-work run of the same recipe (OUT.work/pruned-roundN.safetensors)")
	flag.StringVar(&o.config, "config", "", "the chain recipe (JSON) that run used")
	flag.StringVar(&o.out, "out", "", "folder for the .dcz files (lambda-L.dcz) and work directories")
	flag.StringVar(&o.dataDir, "data-dir", "", "MNIST IDX folder (default: the GoMNIST module)")
	flag.StringVar(&lambdas, "lambda", "0,0.01,0.03,0.1,0.3", "comma-separated rate weights, or \"config\": the recipe's own quantize.lambda (per layer)")
	flag.StringVar(&bits, "bits", "", "NAME=BITS,... replacing the recipe's quantize bits")
	flag.StringVar(&layers, "layers", "*", "comma-separated layers (names or patterns) that get lambda")
	flag.StringVar(&seeds, "seeds", "", "comma-separated seeds of the fine-tuning (the config's seed; default the recipe's); the error is averaged")
	flag.BoolVar(&o.half, "half", false, "float16 codebooks and raw tensors (compress --half-codebooks --half-raw)")
	flag.TextVar(&o.coder, "coder", dcz.CoderHuffman, "huffman, arith or auto (compress --coder)")
	flag.Parse()
	err := o.parse(lambdas, bits, layers, seeds)
	if err == nil {
		err = o.run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratelambda:", err)
		os.Exit(1)
	}
}

func (o *options) parse(lambdas, bits, layers, seeds string) error {
	if o.model == "" || o.pruned == "" || o.config == "" || o.out == "" || flag.NArg() > 0 {
		return fmt.Errorf("usage: ratelambda -model M.safetensors -pruned WORK/pruned-round1.safetensors -config R.json -out DIR [-lambda L,...] [-bits NAME=B,...] [-layers NAME,...] [-half] [-coder auto]")
	}
	if lambdas == "config" {
		o.lambdas = []float64{fromConfig}
		lambdas = ""
	}
	for _, s := range strings.Split(lambdas, ",") {
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("-lambda: %v", err)
		}
		o.lambdas = append(o.lambdas, v)
	}
	if bits != "" {
		o.bits = map[string]int{}
		for _, kv := range strings.Split(bits, ",") {
			k, v, ok := strings.Cut(kv, "=")
			b, err := strconv.Atoi(v)
			if !ok || err != nil {
				return fmt.Errorf("-bits wants NAME=BITS,..., got %q", kv)
			}
			o.bits[k] = b
		}
	}
	o.layers = strings.Split(layers, ",")
	if seeds != "" {
		for _, s := range strings.Split(seeds, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("-seeds: %v", err)
			}
			o.seeds = append(o.seeds, v)
		}
	}
	return nil
}

func (o *options) run() error {
	teacher, err := modelfile.Load(o.model, modelfile.Options{})
	if err != nil {
		return err
	}
	trainSet, testSet, err := mnist.Load(o.dataDir)
	if err != nil {
		return err
	}
	train := nn.Dataset{X: trainSet.Normalized(mnist.Mean, mnist.Std), Labels: trainSet.Labels, Dim: trainSet.ImageSize()}
	test := nn.Dataset{X: testSet.Normalized(mnist.Mean, mnist.Std), Labels: testSet.Labels, Dim: testSet.ImageSize()}
	// The teacher is the input model, as in the full run; the runner then
	// keeps it instead of teaching with the pruned model it is given.
	if train, err = train.WithTeacher(teacher); err != nil {
		return err
	}
	base, err := pipeline.LoadConfig(o.config)
	if err != nil {
		return err
	}
	base.Prune.Rounds = 0 // the pruned checkpoint is the input
	if o.bits != nil {
		base.Quantize.Bits = o.bits
	}
	base.Encode.HalfCodebooks, base.Encode.HalfRaw, base.Encode.Coder = o.half, o.half, o.coder
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if o.seeds == nil {
		o.seeds = []uint64{base.Seed}
	}
	fmt.Printf("%-8s %-18s %-8s %-6s %8s %8s %7s %s\n", "lambda", "bits", "layers", "seed", "bytes", "ratio", "error", "time")
	for _, l := range o.lambdas {
		var bytes, wrong, total int64
		for _, seed := range o.seeds {
			cfg := base
			cfg.Seed = seed
			s, err := o.one(cfg, l, train, test)
			if err != nil {
				return err
			}
			bytes += s.Bytes
			wrong += int64(s.Total - s.Correct)
			total += int64(s.Total)
		}
		if len(o.seeds) > 1 {
			n := int64(len(o.seeds))
			fmt.Printf("%-8s %-18s %-8s %-6s %8d %7.1fx %6.2f%%  (mean of %d seeds)\n", lambdaText(l), bitsText(base.Quantize.Bits), strings.Join(o.layers, ","), "mean",
				bytes/n, float64(o.dense)*float64(n)/float64(bytes), 100*float64(wrong)/float64(total), n)
		}
	}
	return nil
}

// one runs the quantize, fine-tune and encode stages with rate weight l,
// prints the row and returns the final stage.
func (o *options) one(base pipeline.Config, l float64, train, test nn.Dataset) (pipeline.Stage, error) {
	m, err := modelfile.Load(o.pruned, modelfile.Options{})
	if err != nil {
		return pipeline.Stage{}, err
	}
	cfg := base
	if l != fromConfig {
		cfg.Quantize.Lambda = nil
	}
	if l > 0 {
		cfg.Quantize.Lambda = map[string]float64{}
		for _, name := range o.layers {
			cfg.Quantize.Lambda[name] = l
		}
	}
	name := fmt.Sprintf("lambda-%s%s-seed%d", lambdaText(l), o.tag(), cfg.Seed)
	work := filepath.Join(o.out, name+".work")
	if err := os.RemoveAll(work); err != nil {
		return pipeline.Stage{}, err
	}
	r := &pipeline.Runner{Config: cfg, WorkDir: work, Train: train, Test: test}
	start := time.Now()
	res, err := r.Run(context.Background(), m, filepath.Join(o.out, name+".dcz"))
	if err != nil {
		return pipeline.Stage{}, err
	}
	os.RemoveAll(work)
	final := res.Stages[len(res.Stages)-1]
	o.dense = res.Stages[0].Bytes
	fmt.Printf("%-8s %-18s %-8s %-6d %8d %7.1fx %6.2f%% %s\n", lambdaText(l), bitsText(cfg.Quantize.Bits), strings.Join(o.layers, ","), cfg.Seed, final.Bytes, final.Ratio,
		100*float64(final.Total-final.Correct)/float64(final.Total), time.Since(start).Round(time.Second))
	return final, nil
}

// fromConfig stands for the recipe's own quantize.lambda in the list of
// rate weights.
const fromConfig = -1

func lambdaText(l float64) string {
	if l == fromConfig {
		return "config"
	}
	return strconv.FormatFloat(l, 'g', -1, 64)
}

// tag names the variant in file names: the -bits and -layers given.
func (o *options) tag() string {
	t := ""
	if len(o.bits) > 0 {
		t += "-" + bitsText(o.bits)
	}
	if len(o.layers) != 1 || o.layers[0] != "*" {
		t += "-" + strings.Join(o.layers, "+")
	}
	return strings.NewReplacer("=", "", ",", "-", "*", "all").Replace(t)
}

func bitsText(bits map[string]int) string {
	var parts []string
	for k, v := range bits {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
