package prune

import "testing"

// TestApplyPattern: a glob names weights as layer names do, and a layer
// name beats a glob.
func TestApplyPattern(t *testing.T) {
	m := smallModel(t)
	if err := Apply(m, Config{Layers: map[string]Rule{"fc*": {Keep: 0.5}, "fc1": {Keep: 0.1}}}); err != nil {
		t.Fatal(err)
	}
	if k1, k2 := m.Param("fc1.weight").Kept(), m.Param("fc2.weight").Kept(); k1 != 60 || k2 != 60 {
		t.Errorf("kept %d and %d weights, want 60 (10%% of fc1) and 60 (50%% of fc2)", k1, k2)
	}
	if err := Apply(smallModel(t), Config{Layers: map[string]Rule{"conv*": {Keep: 0.5}}}); err == nil {
		t.Error("a glob that matches no weight was accepted")
	}
}
