package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/dcz"
	"github.com/deepcompress/deepcompress/nn"
	"github.com/deepcompress/deepcompress/prune"
)

// chainBase is a small gradual recipe with distillation, as the presets
// the search starts from.
func chainBase() Config {
	c := gradualConfig()
	c.Prune.Config = prune.Config{Layers: map[string]prune.Rule{"fc1": {Keep: 0.2}, "fc2": {Keep: 0.5}}}
	c.Prune.Retrain.Distill, c.Prune.Retrain.Temperature = 0.9, 2
	c.Encode.Coder, c.Encode.HalfCodebooks, c.Encode.HalfRaw = dcz.CoderAuto, true, true
	return c
}

// chainSearchSmall is a search sized for the small synthetic model.
func chainSearchSmall(t *testing.T) ChainSearch {
	m, err := nn.New(smallSpec(), 1)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultChainSearch(m)
	s.HeldOut, s.RetrainSamples = 200, 300
	s.MaxError = 20
	return s
}

// countingSpace counts the evaluations of the space it wraps.
type countingSpace struct {
	SearchSpace
	calls int
}

func (c *countingSpace) Evaluate(ctx context.Context, p SearchPoint, withMetric bool) (SearchMeasure, error) {
	c.calls++
	return c.SearchSpace.Evaluate(ctx, p, withMetric)
}

// TestChainSpaceMonotoneAndCached: along the ladder every option's file
// shrinks (exact bytes) and the kept fractions fall, a candidate leaves
// the input model as it was, and a second search of the same goal
// measures nothing again.
func TestChainSpaceMonotoneAndCached(t *testing.T) {
	m := trainedSmall(t)
	before := m.Snapshot()
	fit, held, err := SplitHeldOut(synthetic(800, 1), 200)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := newChainSpace(m, chainBase(), chainSearchSmall(t), fit, held)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Options() != 3 || sp.Steps() != 11 || math.Abs(sp.scales[5]-1) > 1e-9 {
		t.Fatalf("%d options, %d steps, scales %v: want 3 x 11, the base (1) in the middle", sp.Options(), sp.Steps(), sp.scales)
	}
	for o := range sp.Options() {
		prev := int64(math.MaxInt64)
		prevKeep := 2.0
		for s := range sp.Steps() {
			meas, err := sp.Evaluate(context.Background(), SearchPoint{o, s}, false)
			if err != nil {
				t.Fatal(err)
			}
			keep := sp.config(SearchPoint{o, s}).Prune.Layers["fc1"].Keep
			if meas.Bytes > prev || keep >= prevKeep {
				t.Errorf("option %d step %d: %d bytes keeping %v after %d bytes keeping %v: not falling", o, s, meas.Bytes, keep, prev, prevKeep)
			}
			prev, prevKeep = meas.Bytes, keep
		}
	}
	meas, err := sp.Evaluate(context.Background(), SearchPoint{0, 10}, true)
	if err != nil || !(meas.Metric >= 0 && meas.Metric <= 100) {
		t.Fatalf("metric %v, %v", meas.Metric, err)
	}
	after := m.Snapshot()
	if !reflect.DeepEqual(before, after) {
		t.Error("measuring candidates changed the input model")
	}
	cs := &countingSpace{SearchSpace: sp}
	s := NewSearcher(cs, nil)
	goal := SearchGoal{MaxMetric: 20}
	if _, err := s.Search(context.Background(), goal); err != nil {
		t.Fatal(err)
	}
	n := cs.calls
	if n == 0 || n > 3*5 {
		t.Errorf("%d evaluations for 3 options of 11 steps (bisection: at most 15)", n)
	}
	if _, err := s.Search(context.Background(), goal); err != nil || cs.calls != n {
		t.Errorf("the same search again measured %d more points (%v)", cs.calls-n, err)
	}
}

// TestBitOptions: the base's bits, fc bits one more and one fewer within
// 2..8, conv bits as they are, duplicates dropped.
func TestBitOptions(t *testing.T) {
	spec, err := arch.Builtin("lenet5")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	q := QuantizeConfig{Bits: map[string]int{"conv*": 6, "fc1": 2, "fc2": 8}}
	got := bitOptions(m, q, []int{0, 1, -1})
	want := []map[string]int{
		{"conv1": 6, "conv2": 6, "fc1": 2, "fc2": 8},
		{"conv1": 6, "conv2": 6, "fc1": 3, "fc2": 8},
		{"conv1": 6, "conv2": 6, "fc1": 2, "fc2": 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options %v, want %v", got, want)
	}
	// Unnamed layers get the paper's bits (8 conv, 5 fc); one fewer fc
	// bit than 8 and 8 again give two options, not three.
	got = bitOptions(m, QuantizeConfig{}, []int{0, 0, -1})
	if len(got) != 2 || got[0]["conv1"] != 8 || got[0]["fc1"] != 5 || got[1]["fc1"] != 4 || got[1]["conv2"] != 8 {
		t.Errorf("paper bits: %v", got)
	}
	if got := bitOptions(m, QuantizeConfig{Skip: true}, []int{0, 1, -1}); len(got) != 1 {
		t.Errorf("a base that skips quantization has %d bit options, want 1", len(got))
	}
}

// TestDefaultChainSearchByModel: candidates of a model with convolutions
// retrain on fewer images than those of a dense one; both searches run.
func TestDefaultChainSearchByModel(t *testing.T) {
	brief := map[string][2]int{}
	for _, name := range []string{"lenet300", "lenet5"} {
		spec, err := arch.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := nn.New(spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := DefaultChainSearch(m)
		s.MaxError = 1
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		brief[name] = [2]int{s.Retrain.Epochs, s.RetrainSamples}
	}
	if brief["lenet300"] != [2]int{2, 20000} || brief["lenet5"] != [2]int{1, 10000} {
		t.Errorf("brief retraining (epochs, images) %v, want lenet300 2 on 20000, lenet5 1 on 10000", brief)
	}
}

// TestScaleRules: keep fractions scaled and clipped to 1, the default
// rule made explicit per layer, quality thresholds raised as fewer
// weights are kept, a global keep scaled.
func TestScaleRules(t *testing.T) {
	m := trainedSmall(t)
	got := scaleRules(m, prune.Config{Layers: map[string]prune.Rule{"fc1": {Keep: 0.3}}, Default: prune.Rule{Keep: 0.6}}, 2)
	if want := map[string]prune.Rule{"fc1": {Keep: 0.6}, "fc2": {Keep: 1}}; !reflect.DeepEqual(got.Layers, want) {
		t.Errorf("scaled keeps %v, want %v", got.Layers, want)
	}
	got = scaleRules(m, prune.Config{Layers: map[string]prune.Rule{"fc2": {Quality: 1}}}, 0.5)
	if want := map[string]prune.Rule{"fc2": {Quality: 2}}; !reflect.DeepEqual(got.Layers, want) {
		t.Errorf("scaled quality %v, want %v", got.Layers, want)
	}
	if got := scaleRules(m, prune.Config{GlobalKeep: 0.1}, 0.5); got.GlobalKeep != 0.05 || got.Layers != nil {
		t.Errorf("scaled global keep %+v", got)
	}
}

// TestChainSearchMeetsBound searches the small model end to end: the
// file written is the kept full run's, its held-out error (read back)
// within the bound, and the written recipe reloads as the same config,
// valid for the model.
func TestChainSearchMeetsBound(t *testing.T) {
	m := trainedSmall(t)
	dir := t.TempDir()
	s := chainSearchSmall(t)
	c := &ChainSearcher{Base: chainBase(), Search: s, Train: synthetic(800, 1), Test: synthetic(200, 2), WorkDir: filepath.Join(dir, "work")}
	out := filepath.Join(dir, "small.dcz")
	rep, err := c.Run(context.Background(), m, out)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Met || len(rep.Runs) == 0 || len(rep.Runs) > 1+s.Retries || len(rep.Trials) == 0 {
		t.Fatalf("met %v, %d full runs, %d candidates", rep.Met, len(rep.Runs), len(rep.Trials))
	}
	kept := rep.Runs[rep.Chosen]
	if !kept.Met || kept.HeldOutError > s.MaxError {
		t.Errorf("kept run %+v: not within %v %%", kept, s.MaxError)
	}
	back, err := dcz.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(out)
	if info.Size() != kept.Bytes || rep.Result.Out != out || rep.Result.Stages[len(rep.Result.Stages)-1].Bytes != kept.Bytes {
		t.Errorf("file %d bytes, kept run %d bytes, result %s", info.Size(), kept.Bytes, rep.Result.Out)
	}
	dec, err := nn.New(smallSpec(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.SetWeights(back.DenseWeights()); err != nil {
		t.Fatal(err)
	}
	_, held, _ := SplitHeldOut(c.Train, s.HeldOut)
	if e, _ := errorPercent(dec, held); math.Abs(e-kept.HeldOutError) > 1e-9 {
		t.Errorf("file's held-out error %.2f %%, reported %.2f %%", e, kept.HeldOutError)
	}
	if tab := ChainSearchTable(rep); len(tab.Rows) != len(rep.Trials)+len(rep.Runs) || strings.Count(tab.Text(), ", kept") != 1 {
		t.Errorf("table of %d candidates and %d runs:\n%s", len(rep.Trials), len(rep.Runs), tab.Text())
	}
	path := filepath.Join(dir, "small.config.json")
	if err := WriteConfig(path, rep.Config); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, rep.Config) {
		t.Errorf("reloaded %+v, written %+v", cfg, rep.Config)
	}
	if err := cfg.Validate(m); err != nil {
		t.Error(err)
	}
}

// TestChainSearchRefusesBadGoals: both bounds, none, negative, NaN, 100
// percent, and a base that prunes nothing are clear errors.
func TestChainSearchRefusesBadGoals(t *testing.T) {
	for _, c := range []struct {
		maxErr, maxDrop float64
		want            string
	}{
		{1, 1, "exactly one"}, {0, 0, "exactly one"}, {-1, 0, "positive"}, {0, -0.5, "positive"},
		{math.NaN(), 0, "finite"}, {100, 0, "below 100"},
	} {
		s := chainSearchSmall(t)
		s.MaxError, s.MaxDrop = c.maxErr, c.maxDrop
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("max error %v, max drop %v: error %v, want one saying %q", c.maxErr, c.maxDrop, err, c.want)
		}
	}
	base := chainBase()
	base.Prune.Rounds = 0
	c := &ChainSearcher{Base: base, Search: chainSearchSmall(t), Train: synthetic(800, 1), Test: synthetic(200, 2), WorkDir: t.TempDir()}
	if _, err := c.Run(context.Background(), trainedSmall(t), filepath.Join(t.TempDir(), "x.dcz")); err == nil || !strings.Contains(err.Error(), "prunes nothing") {
		t.Errorf("a base without pruning: %v", err)
	}
	if _, _, err := SplitHeldOut(synthetic(100, 1), 100); err == nil {
		t.Error("holding out every image was accepted")
	}
}

// TestChainGoals: --max-drop bounds the error at the input model's plus
// the drop; the cheap candidates get Slack times the allowed loss, and
// no slack when the bound allows none.
func TestChainGoals(t *testing.T) {
	for _, c := range []struct {
		maxErr, maxDrop, orig float64
		goal, cheap           float64
	}{
		{maxErr: 1, orig: 0.2, goal: 1, cheap: 0.2 + 2.5*0.8},
		{maxDrop: 1, orig: 0.5, goal: 1.5, cheap: 0.5 + 2.5},
		{maxErr: 0.3, orig: 0.5, goal: 0.3, cheap: 0.3},
	} {
		s := chainSearchSmall(t)
		s.MaxError, s.MaxDrop = c.maxErr, c.maxDrop
		rep := &ChainSearchReport{}
		goal, cheap := (&ChainSearcher{Search: s}).goals(c.orig, rep)
		if math.Abs(goal.MaxMetric-c.goal) > 1e-12 || math.Abs(cheap.MaxMetric-c.cheap) > 1e-12 || goal.MaxBytes != 0 || rep.Goal == "" {
			t.Errorf("%+v: goal %+v, cheap %+v (%q)", c, goal, cheap, rep.Goal)
		}
	}
}
