package nn

// Recipe is the default training recipe for a built-in architecture: the
// settings with which one `deepcompress train` run reaches the baseline
// accuracy the Deep Compression paper started from (1.64 % test error for
// lenet300, 0.80 % for lenet5). Unknown names get a generic recipe.
func Recipe(arch string) TrainConfig {
	base := TrainConfig{Batch: 64, Momentum: 0.9, L2: 5e-4, Schedule: Cosine, Seed: 1}
	switch arch {
	case "lenet300":
		base.Epochs, base.LR = 30, 0.05
	case "lenet5":
		base.Epochs, base.LR = 20, 0.02
	default:
		base.Epochs, base.LR = 10, 0.01
	}
	return base
}
