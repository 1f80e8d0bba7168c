package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/deepcompress/deepcompress/onnx/onnxpb"
)

// maxElements bounds the element count of any tensor or shape the importer
// accepts, far above real models, so that products of dims cannot overflow.
const maxElements = 1 << 40

// tensorShape returns a tensor's dims as ints, checking that each is
// non-negative and that the product stays bounded.
func tensorShape(t *onnxpb.TensorProto) ([]int, int, error) {
	dims := t.GetDims()
	shape := make([]int, len(dims))
	n := int64(1)
	for i, d := range dims {
		if d < 0 || d > maxElements || (d > 0 && n > maxElements/d) {
			return nil, 0, fmt.Errorf("bad dims %v", dims)
		}
		n *= d
		shape[i] = int(d)
	}
	return shape, int(n), nil
}

// checkLocal refuses tensors whose data lives outside the model file.
func checkLocal(t *onnxpb.TensorProto) error {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return fmt.Errorf("tensor %q stores its data in an external file, which is not supported: "+
			"re-save the model with its data embedded (onnx.save_model(..., save_as_external_data=False))", t.GetName())
	}
	return nil
}

// floatTensor decodes a FLOAT tensor from raw_data (little-endian) or
// float_data. The element count is checked against the stored bytes before
// anything is allocated.
func floatTensor(t *onnxpb.TensorProto) ([]int, []float32, error) {
	if err := checkLocal(t); err != nil {
		return nil, nil, err
	}
	if dt := t.GetDataType(); dt != int32(onnxpb.TensorProto_FLOAT) {
		return nil, nil, fmt.Errorf("tensor %q has data type %s, want FLOAT (float32)", t.GetName(), dataTypeName(dt))
	}
	shape, n, err := tensorShape(t)
	if err != nil {
		return nil, nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	if t.RawData != nil {
		raw := t.GetRawData()
		if len(raw) != 4*n {
			return nil, nil, fmt.Errorf("tensor %q: raw_data holds %d bytes, dims %v need %d", t.GetName(), len(raw), shape, 4*n)
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return shape, data, nil
	}
	data := t.GetFloatData()
	if len(data) != n {
		return nil, nil, fmt.Errorf("tensor %q: float_data holds %d values, dims %v need %d", t.GetName(), len(data), shape, n)
	}
	return shape, data, nil
}

// intTensor decodes an INT64 (or INT32) tensor, as used for shapes.
func intTensor(t *onnxpb.TensorProto) ([]int64, error) {
	if err := checkLocal(t); err != nil {
		return nil, err
	}
	_, n, err := tensorShape(t)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	dt := t.GetDataType()
	var size int
	switch dt {
	case int32(onnxpb.TensorProto_INT64):
		size = 8
	case int32(onnxpb.TensorProto_INT32):
		size = 4
	default:
		return nil, fmt.Errorf("tensor %q has data type %s, want INT64", t.GetName(), dataTypeName(dt))
	}
	if t.RawData != nil {
		raw := t.GetRawData()
		if len(raw) != size*n {
			return nil, fmt.Errorf("tensor %q: raw_data holds %d bytes, need %d", t.GetName(), len(raw), size*n)
		}
		out := make([]int64, n)
		for i := range out {
			if size == 8 {
				out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			} else {
				out[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		}
		return out, nil
	}
	if size == 8 {
		if len(t.GetInt64Data()) != n {
			return nil, fmt.Errorf("tensor %q: int64_data holds %d values, need %d", t.GetName(), len(t.GetInt64Data()), n)
		}
		return t.GetInt64Data(), nil
	}
	if len(t.GetInt32Data()) != n {
		return nil, fmt.Errorf("tensor %q: int32_data holds %d values, need %d", t.GetName(), len(t.GetInt32Data()), n)
	}
	out := make([]int64, n)
	for i, v := range t.GetInt32Data() {
		out[i] = int64(v)
	}
	return out, nil
}

// rawFloatTensor encodes data as a FLOAT initializer in raw_data.
func rawFloatTensor(name string, shape []int, data []float32) *onnxpb.TensorProto {
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnxpb.TensorProto{
		Name:     &name,
		Dims:     dims,
		DataType: ptr(int32(onnxpb.TensorProto_FLOAT)),
		RawData:  raw,
	}
}

func dataTypeName(dt int32) string {
	if name, ok := onnxpb.TensorProto_DataType_name[dt]; ok {
		return name
	}
	return fmt.Sprintf("type %d", dt)
}

func ptr[T any](v T) *T { return &v }
