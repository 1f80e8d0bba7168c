package main

import "strings"

// archCases: --arch FILE.json descriptions for the base checkpoint that
// records none.
func (c *corpus) archCases() error {
	files := map[string]string{
		"arch-dense-2^24":  `{"input":[16777216],"layers":[{"kind":"dense","name":"fc","out":16777216}]}`,
		"arch-conv-huge":   `{"input":[1,28,28],"layers":[{"kind":"conv2d","name":"c","out":64,"kernel":[4096,4096],"pad":[4095,4095]}]}`,
		"arch-channels":    `{"input":[1,28,28],"layers":[{"kind":"conv2d","name":"c","out":1048576,"kernel":[1,1]}]}`,
		"arch-unknown":     `{"input":[1,28,28],"layers":[{"kind":"flatten"},{"kind":"dense","name":"fc1","out":300,"activation":"relu"}]}`,
		"arch-trailing":    `{"input":[784],"layers":[{"kind":"dense","name":"fc1","out":300}]} {"x":1}`,
		"arch-negative":    `{"input":[-784],"layers":[{"kind":"dense","name":"fc1","out":300}]}`,
		"arch-not-json":    `{"input":[784],"layers":[{"kind":"dense",`,
		"arch-nested":      `{"input":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
		"arch-long-name":   `{"input":[784],"layers":[{"kind":"dense","name":"` + strings.Repeat("n", 1<<20) + `","out":3}]}`,
		"arch-long-kind":   `{"input":[784],"layers":[{"kind":"` + strings.Repeat("k", 1<<20) + `"}]}`,
		"arch-deep":        deepSpec(20000),
		"arch-wrong-model": `{"input":[1,28,28],"layers":[{"kind":"flatten"},{"kind":"dense","name":"fc1","out":7}]}`,
	}
	for name, js := range files {
		f := c.file("arch/"+name+".json", []byte(js))
		c.cmd(name, "arch", "eval", "--model", "base/noarch.safetensors", "--arch", f)
		c.cmd(name, "arch", "export", "--model", "base/noarch.safetensors", "--arch", f, "--out", "out/"+name+".onnx")
	}
	return nil
}

// configCases: --config recipes for compress (all refused before any
// training) and data-free configs for compress --data-free.
func (c *corpus) configCases() error {
	files := map[string]string{
		"config-batch-1e9":    `{"prune":{"rounds":1,"retrain":{"epochs":1,"lr":0.01,"batch":1000000000}}}`,
		"config-ft-batch-1e9": `{"quantize":{"bits":{"fc1":4},"finetune":{"epochs":1,"lr":0.01,"batch":1000000000}}}`,
		"config-rounds-1e9":   `{"prune":{"rounds":1000000000,"retrain":{"epochs":0,"lr":0.01}}}`,
		"config-unknown":      `{"prune":{"roundz":3}}`,
		"config-bits-99":      `{"quantize":{"bits":{"fc1":99}}}`,
		"config-layer-absent": `{"quantize":{"bits":{"conv9":4}}}`,
		"config-negative":     `{"prune":{"rounds":-5}}`,
		"config-float-ovf":    `{"prune":{"rounds":1,"retrain":{"epochs":1,"lr":1e999}}}`,
		"config-nested":       strings.Repeat("[", 100000),
	}
	for name, js := range files {
		f := c.file("config/"+name+".json", []byte(js))
		c.cmd(name, "config", "compress", "--model", "base/lenet300.safetensors", "--out", "out/"+name+".dcz", "--config", f)
	}
	df := map[string]string{
		"dfconfig-unknown":   `{"default":{"keep":0.1,"bitz":4}}`,
		"dfconfig-bits-99":   `{"default":{"keep":0.1,"bits":99}}`,
		"dfconfig-keep-neg":  `{"default":{"keep":-1}}`,
		"dfconfig-rules-big": `{"rules":[` + strings.Repeat(`{"match":"*","keep":0.5},`, 100000) + `{"match":"*","keep":0.5}]}`,
	}
	for name, js := range df {
		f := c.file("config/"+name+".json", []byte(js))
		c.cmd(name, "config", "compress", "--data-free", "--model", "base/lenet300.safetensors", "--out", "out/"+name+".dcz", "--config", f)
	}
	return nil
}
