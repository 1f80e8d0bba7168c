package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/modelfile"
	"github.com/deepcompress/deepcompress/nn"
)

func init() { registry = append(registry, trainCmd) }

// trainOptions are the settings of train.
type trainOptions struct {
	data     dataFlags
	arch     string
	out      string
	cfg      nn.TrainConfig
	schedule string
}

func trainCmd() *cobra.Command {
	var o trainOptions
	cmd := &cobra.Command{
		Use:   "train --arch lenet300|lenet5 --out FILE.safetensors",
		Short: "Train a network on MNIST from scratch",
		Long: `Train LeNet-300-100 or LeNet-5 on the 60,000 MNIST training images and
write a safetensors checkpoint that records its architecture. The defaults
are the recipe that reaches the paper's baseline accuracy; the final test
accuracy on the 10,000 test images is printed at the end.`,
		Example: "  deepcompress train --arch lenet300 --out lenet300.safetensors",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.arch, "arch", "lenet300", "architecture: lenet300 or lenet5")
	// --model was this command's name for the architecture; elsewhere it
	// is a model file.
	f.StringVar(&o.arch, "model", "lenet300", "architecture (the former name of --arch)")
	f.MarkDeprecated("model", "use --arch (--model names a model file in the other commands)")
	cmd.MarkFlagsMutuallyExclusive("arch", "model")
	f.StringVar(&o.out, "out", "", "checkpoint to write (.safetensors)")
	f.IntVar(&o.cfg.Epochs, "epochs", 0, "training epochs (default: the architecture's recipe)")
	f.IntVar(&o.cfg.Batch, "batch", 0, "minibatch size (default: the recipe's, 64)")
	f.Float32Var(&o.cfg.LR, "lr", 0, "initial learning rate (default: the recipe's)")
	f.StringVar(&o.schedule, "schedule", "", "learning-rate schedule: constant, step or cosine (default: the recipe's)")
	f.Float32Var(&o.cfg.Momentum, "momentum", 0, "SGD momentum (default: the recipe's)")
	f.Float32Var(&o.cfg.L2, "l2", 0, "L2 weight decay (default: the recipe's)")
	f.Float32Var(&o.cfg.L1, "l1", 0, "L1 weight decay (default: the recipe's, 0)")
	f.Uint64Var(&o.cfg.Seed, "seed", 0, "random seed for initialisation and shuffling (default 1)")
	o.data.register(cmd)
	cmd.MarkFlagRequired("out")
	return cmd
}

func (o *trainOptions) run(cmd *cobra.Command) error {
	spec, err := arch.Builtin(o.arch)
	if err != nil {
		return err
	}
	recipe := nn.Recipe(o.arch)
	cfg := &o.cfg
	fill(cmd, "epochs", &cfg.Epochs, recipe.Epochs)
	fill(cmd, "batch", &cfg.Batch, recipe.Batch)
	fill(cmd, "lr", &cfg.LR, recipe.LR)
	fill(cmd, "momentum", &cfg.Momentum, recipe.Momentum)
	fill(cmd, "l2", &cfg.L2, recipe.L2)
	fill(cmd, "l1", &cfg.L1, recipe.L1)
	fill(cmd, "seed", &cfg.Seed, recipe.Seed)
	fill(cmd, "schedule", &o.schedule, string(recipe.Schedule))
	cfg.Schedule = nn.Schedule(o.schedule)
	if err := cfg.Validate(); err != nil {
		return err
	}
	train, test, err := o.data.both()
	if err != nil {
		return err
	}
	m, err := nn.New(spec, cfg.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "training %s: %d epochs, batch %d, lr %g (%s), momentum %g, L2 %g, L1 %g, seed %d\n",
		o.arch, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Schedule, cfg.Momentum, cfg.L2, cfg.L1, cfg.Seed)
	start := time.Now()
	if err := nn.TrainContext(cmd.Context(), m, train, *cfg, nil, trainingBar(o.arch)); err != nil {
		return err
	}
	elapsed := time.Since(start)
	correct, err := nn.Evaluate(m, test, 500)
	if err != nil {
		return err
	}
	if err := modelfile.SaveCheckpoint(o.out, m, nil); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "trained in %.1fs; test accuracy %d/%d (%.2f%%, error %.2f%%); wrote %s\n",
		elapsed.Seconds(), correct, test.Len(), 100*float64(correct)/float64(test.Len()),
		100-100*float64(correct)/float64(test.Len()), o.out)
	return nil
}

// fill sets *v to def unless the user gave the flag.
func fill[T any](cmd *cobra.Command, flag string, v *T, def T) {
	if !cmd.Flags().Changed(flag) {
		*v = def
	}
}
