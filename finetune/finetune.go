// Package finetune is the training side of trained quantization (Deep
// Compression, section 3.3): it quantizes a model's weights with package
// quantize and fine-tunes the shared values by their summed gradients.
// It sits above the training engine (nn) so that quantize, the container
// and the runtime link no training code.
package finetune

import (
	"context"
	"fmt"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/quantize"
	"github.com/deepcompress/deepcompress/settings"
)

// Quantize quantizes every weight tensor of m: the bits of each come from
// bits (keyed by weight name "fc1.weight", layer name "fc1" or pattern
// "conv*", see settings.Lookup), else from the paper's width for the
// layer's kind. Zero weights are taken as pruned. Names in bits that match
// no weight are an error. Every tensor is clustered with opt (its
// Lambda included).
func Quantize(m *nn.Model, bits map[string]int, opt quantize.Options) ([]*quantize.Layer, error) {
	return QuantizeRate(m, bits, nil, opt)
}

// QuantizeRate is Quantize with rate-aware weight sharing per layer:
// lambda, keyed like bits, gives the quantize.Options.Lambda of the
// weights it names (the weight of an index bit against squared error, see
// quantize.Options.Lambda); the others keep opt.Lambda.
func QuantizeRate(m *nn.Model, bits map[string]int, lambda map[string]float64, opt quantize.Options) ([]*quantize.Layer, error) {
	weights := m.Weights()
	names := make([]string, len(weights))
	for i, p := range weights {
		names[i] = p.Name
	}
	if err := settings.Check(bits, names); err != nil {
		return nil, fmt.Errorf("finetune: bits: %w", err)
	}
	if err := settings.Check(lambda, names); err != nil {
		return nil, fmt.Errorf("finetune: lambda: %w", err)
	}
	var layers []*quantize.Layer
	for _, p := range weights {
		b, ok := settings.Lookup(bits, p.Name)
		if !ok {
			b = settings.PaperBits(m.WeightKind(p.Name))
		}
		o := opt
		o.Bits = b
		if l, ok := settings.Lookup(lambda, p.Name); ok {
			o.Lambda = l
		}
		l, err := quantize.QuantizeTensor(p.Name, p.Shape, p.Data, o)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// Tune is the fine-tuning stage of trained quantization: it ties m's
// weights to layers (see New) and, when cfg.Epochs > 0, trains the shared
// values on train with cfg, cfg.Momentum the momentum of the codebooks.
func Tune(ctx context.Context, m *nn.Model, layers []*quantize.Layer, train nn.Dataset, cfg nn.TrainConfig, report func(nn.Progress)) error {
	ft, err := New(m, layers, cfg.Momentum)
	if err != nil || cfg.Epochs == 0 {
		return err
	}
	return nn.TrainContext(ctx, m, train, cfg, ft, report)
}

// FineTuner is the optimizer of trained quantization (paper, section 3.3):
// the weights of a quantized tensor are tied to its codebook, and each
// shared value moves by the summed gradient of the weights that use it,
//
//	dL/dC_k = sum_i dL/dW[Pos_i] * 1(Idx_i = k),
//
// with momentum: v_k = mu*v_k + dL/dC_k; C_k -= lr*v_k. Indices never
// change and pruned weights stay zero. Parameters with no quantized layer
// (biases) follow plain SGD with the same momentum.
type FineTuner struct {
	tied []tied
	rest *nn.SGD
	mu   float32
}

type tied struct {
	p     *nn.Param
	l     *quantize.Layer
	grad  []float64 // per centroid, reused
	veloc []float32
}

// NewFineTuner ties the model's weights to layers: every weight is set to
// its shared value (zero where pruned) and masked to its positions. All
// momentum is reset, so the result depends only on the weights.
func New(m *nn.Model, layers []*quantize.Layer, momentum float32) (*FineTuner, error) {
	f := &FineTuner{mu: momentum}
	isTied := map[*nn.Param]bool{}
	for _, l := range layers {
		p := m.Param(l.Name)
		if p == nil {
			return nil, fmt.Errorf("finetune: the model has no parameter %s", l.Name)
		}
		if arch.Numel(l.Shape) != len(p.Data) {
			return nil, fmt.Errorf("finetune: layer %s has shape %v, the parameter %v", l.Name, l.Shape, p.Shape)
		}
		if err := l.Validate(); err != nil {
			return nil, err
		}
		l.DenseInto(p.Data)
		mask := make([]float32, len(p.Data))
		for _, pos := range l.Pos {
			mask[pos] = 1
		}
		p.SetMask(mask)
		f.tied = append(f.tied, tied{p: p, l: l, grad: make([]float64, len(l.Codebook)), veloc: make([]float32, len(l.Codebook))})
		isTied[p] = true
	}
	var rest []*nn.Param
	for _, p := range m.Params() {
		// Fine-tuning is a new phase: no momentum carried over from before.
		p.ResetMomentum()
		if !isTied[p] {
			rest = append(rest, p)
		}
	}
	f.rest = &nn.SGD{Params: rest, Momentum: momentum}
	return f, nil
}

// Step moves every codebook by its summed gradients and rewrites the tied
// weights; other parameters take an SGD step.
func (f *FineTuner) Step(lr float32) {
	for i := range f.tied {
		t := &f.tied[i]
		quantize.CentroidGradients(t.grad, t.p.Grad, t.l)
		for k, g := range t.grad {
			t.veloc[k] = f.mu*t.veloc[k] + float32(g)
			t.l.Codebook[k] -= lr * t.veloc[k]
		}
		for j, pos := range t.l.Pos {
			t.p.Data[pos] = t.l.Codebook[t.l.Idx[j]]
		}
	}
	f.rest.Step(lr)
}
