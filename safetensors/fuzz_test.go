package safetensors

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

// FuzzRead checks that no input panics Read, and that whatever Read accepts
// survives a Write/Read round trip. Seeds: testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add(rawFile(`{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 0x3c, 0xff, 0x7b}))
	f.Add(rawFile(`{"a":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]},"b":{"dtype":"F32","shape":[],"data_offsets":[2,6]}}`, make([]byte, 6)))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := readBytes(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			t.Fatalf("Write of a file Read accepted: %v", err)
		}
		again, err := readBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("Read of our own output: %v", err)
		}
		if len(again.Metadata) != len(file.Metadata) || len(again.Metadata) > 0 && !reflect.DeepEqual(again.Metadata, file.Metadata) {
			t.Fatalf("metadata %v became %v", file.Metadata, again.Metadata)
		}
		for _, want := range file.Tensors {
			got, ok := again.Get(want.Name)
			if !ok || got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) || !sameFloats(got.Data, want.Data) {
				t.Fatalf("tensor %q changed in the round trip", want.Name)
			}
		}
	})
}

// sameFloats compares bit patterns, except that any NaN equals any NaN
// (conversion quiets signalling NaNs).
func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}
