package onnx

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/deepcompress/deepcompress/arch"
	"github.com/deepcompress/deepcompress/graph"
	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// FuzzImportGraph checks that no input panics ImportGraph, that its errors
// stay short, and that whatever it accepts exports and re-imports to the
// same graph and the same bytes. Seeds: hand-built models (every attribute
// kind, Constant form and tensor type; a chain; a layer-chain export), the
// corpus of FuzzImport, and the PyTorch LeNet-300-100 export when present.
func FuzzImportGraph(f *testing.F) {
	f.Add(encode(f, baseModel()))
	f.Add(encode(f, allGraphModel()))
	f.Add(encode(f, reluChain(3)))
	tiny := arch.Spec{Input: []int{1, 4, 4}, Layers: []arch.Layer{
		{Kind: arch.Conv2D, Name: "c", Out: 2, Kernel: [2]int{3, 3}, Pad: [2]int{1, 1}},
		{Kind: arch.AvgPool, Kernel: [2]int{2, 2}},
		{Kind: arch.Flatten}, {Kind: arch.Dropout, Rate: 0.5},
		{Kind: arch.Dense, Name: "fc", Out: 3}, {Kind: arch.Softmax},
	}}
	g, err := graph.FromSpec(tiny, randomWeights(f, tiny, 1))
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ExportGraph(&buf, g); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	seeds, err := filepath.Glob("testdata/fuzz/FuzzImport/*")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no FuzzImport corpus (%v)", err)
	}
	for _, p := range seeds {
		f.Add(corpusBytes(f, p))
	}
	data, err := os.ReadFile(lenet300ONNX(f))
	if err != nil {
		f.Fatal(err)
	}
	// The 1 MB file makes fuzzing crawl (every new input derived from it
	// is minimized at length), so the fuzzer gets it with its tensors cut
	// to 2 elements per dimension; plain go test runs the whole file too.
	f.Add(shrunk(f, data))
	if fl := flag.Lookup("test.fuzz"); fl == nil || fl.Value.String() == "" {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ImportGraph(bytes.NewReader(data))
		if err != nil {
			if n := len(err.Error()); n > 1000 {
				t.Fatalf("error message of %d bytes: %s", n, graph.Short(err.Error()))
			}
			return
		}
		roundTrip(t, g)
	})
}

// shrunk re-encodes a model with every raw_data initializer cut to at most
// 2 elements per dimension.
func shrunk(f *testing.F, data []byte) []byte {
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		f.Fatal(err)
	}
	for _, t := range m.GetGraph().GetInitializer() {
		if t.RawData == nil || len(t.Dims) == 0 {
			continue
		}
		n := int64(1)
		for i, d := range t.Dims {
			t.Dims[i] = min(d, 2)
			n *= t.Dims[i]
		}
		t.RawData = t.RawData[:n*int64(elemSize[onnxpb.TensorProto_DataType(t.GetDataType())])]
	}
	return encode(f, m)
}

// corpusBytes reads the one []byte value of a "go test fuzz v1" file.
func corpusBytes(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		f.Fatalf("%s: not a one-value fuzz corpus file", path)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	s, err := strconv.Unquote(v)
	if err != nil {
		f.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}
