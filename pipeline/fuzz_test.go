package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/deepcompress/deepcompress/budget"
	"github.com/deepcompress/deepcompress/nn"
)

// FuzzConfig: no config file makes ParseConfig or Validate panic; an
// accepted and validated config is bounded (rounds, batches in budget).
func FuzzConfig(f *testing.F) {
	for _, c := range []Config{smallConfig(), distilledConfig()} {
		b, _ := json.Marshal(c)
		f.Add(string(b))
	}
	f.Add(`{"prune":{"rounds":1000000000,"retrain":{"epochs":1,"lr":0.1}}}`)
	f.Add(`{"quantize":{"finetune":{"epochs":1,"lr":0.1,"batch":1e9}}}`)
	m, err := nn.New(smallSpec(), 1)
	if err != nil {
		f.Fatal(err)
	}
	defer budget.Default.SetLimit(budget.Default.Limit())
	budget.Default.SetLimit(256 << 20)
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseConfig([]byte(data))
		if err != nil || c.Validate(m) != nil {
			return
		}
		if c.Prune.Rounds > MaxRounds {
			t.Fatalf("%d rounds accepted", c.Prune.Rounds)
		}
	})
}
