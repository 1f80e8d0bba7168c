package dcz

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// LayerStats is one row of the paper's per-layer tables (Tables 2 and 3):
// how much of a layer survives pruning and what each surviving weight costs.
type LayerStats struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Weights  int    `json:"weights"`  // dense element count
	Kept     int    `json:"kept"`     // surviving weights
	Entries  int    `json:"entries"`  // stored entries: survivors plus fillers
	Fillers  int    `json:"fillers"`  // filler zeros
	Codebook int    `json:"codebook"` // shared values
	// CodebookType is how the shared values are stored: "float32" or
	// "float16".
	CodebookType string `json:"codebook_type"`
	// KeptPct = 100 * Kept / Weights.
	KeptPct float64 `json:"kept_pct"`
	// WeightBits is the fixed width b of a codebook index (P+Q);
	// WeightBitsHuffman the Huffman-coded bits per surviving weight, code
	// table included.
	WeightBits        int     `json:"weight_bits"`
	WeightBitsHuffman float64 `json:"weight_bits_huffman"`
	// IndexBits is the gap width (P+Q); IndexBitsHuffman the coded gap
	// bits, fillers and table included, per surviving weight (0 for a
	// dense layer, which stores no gaps).
	IndexBits        int     `json:"index_bits"`
	IndexBitsHuffman float64 `json:"index_bits_huffman"`
	// PQPct is the size with the paper's fixed-width fields (a weight
	// index and a gap for every entry, fillers included) relative to dense
	// 32-bit weights: 100 * (Entries*(WeightBits+IndexBits) +
	// c*Codebook) / (32*Weights), c the bits of a stored shared value (32
	// or 16). PQHPct is the size of the section as stored, framing
	// included: 100 * 8*Bytes / (32*Weights).
	PQPct  float64 `json:"pq_pct"`
	PQHPct float64 `json:"pqh_pct"`
	Bytes  int     `json:"bytes"` // section bytes in the file
	// Coder is the entropy coder of the section: "huffman" or "arith"
	// (package cabac). An arithmetic-coded section is one stream, which
	// WeightBitsHuffman and IndexBitsHuffman then split in proportion to
	// the context model's ideal cost of the indices and of the positions
	// (cabac.Encoder.Bound).
	Coder string `json:"coder"`
	// CodedBytes is the entropy-coded part of the section (both Huffman
	// blocks, or the cabac stream); BitsPerWeight = 8*CodedBytes/Kept and
	// BitsPerPosition = 8*CodedBytes/Weights.
	CodedBytes      int     `json:"coded_bytes"`
	BitsPerWeight   float64 `json:"bits_per_weight"`
	BitsPerPosition float64 `json:"bits_per_position"`
}

// RawStats describes a tensor stored raw.
type RawStats struct {
	Name   string `json:"name"`
	Values int    `json:"values"`
	Type   string `json:"type"`  // "float32" or "float16"
	Bytes  int    `json:"bytes"` // section bytes in the file
}

// TotalStats sums the layers like the paper's "total" rows, and compares
// the whole file with the dense model.
type TotalStats struct {
	Weights           int     `json:"weights"` // elements of the layers
	Kept              int     `json:"kept"`
	Entries           int     `json:"entries"`
	KeptPct           float64 `json:"kept_pct"`
	WeightBits        float64 `json:"weight_bits"` // means per surviving weight
	WeightBitsHuffman float64 `json:"weight_bits_huffman"`
	IndexBits         float64 `json:"index_bits"`
	IndexBitsHuffman  float64 `json:"index_bits_huffman"`
	PQPct             float64 `json:"pq_pct"`
	PQHPct            float64 `json:"pqh_pct"`
	// CodedBytes, BitsPerWeight and BitsPerPosition as per layer, summed
	// over the layers.
	CodedBytes      int64   `json:"coded_bytes"`
	BitsPerWeight   float64 `json:"bits_per_weight"`
	BitsPerPosition float64 `json:"bits_per_position"`
	// ArithLayers counts the arithmetic-coded layer sections.
	ArithLayers int `json:"arith_layers"`

	LayerBytes int64 `json:"layer_bytes"` // sections of the layers
	RawBytes   int64 `json:"raw_bytes"`   // sections of raw tensors
	// OverheadBytes holds the header, network description and end section.
	OverheadBytes int64 `json:"overhead_bytes"`
	Params        int64 `json:"params"` // all parameters, weights and biases
	// DenseBytes = 4*Params, FileBytes the size of the file and
	// Ratio = DenseBytes / FileBytes.
	DenseBytes int64   `json:"dense_bytes"`
	FileBytes  int64   `json:"file_bytes"`
	Ratio      float64 `json:"ratio"`
}

// Stats describes a .dcz file, as printed by inspect.
type Stats struct {
	Network string       `json:"network"`
	Layers  []LayerStats `json:"layers"`
	Raw     []RawStats   `json:"raw"`
	Total   TotalStats   `json:"total"`
}

// Inspect reads and fully verifies the .dcz file at path and returns its
// statistics.
func Inspect(path string) (*Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dcz: %w", err)
	}
	defer f.Close()
	s, err := ReadStats(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ReadStats reads and fully verifies a .dcz file from r and returns its
// statistics.
func ReadStats(r io.Reader) (*Stats, error) {
	d, err := NewDecoder(r)
	if err != nil {
		return nil, err
	}
	spec := d.Spec()
	st := &Stats{Network: spec.Name, Layers: []LayerStats{}, Raw: []RawStats{}}
	for {
		s, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if s.Layer != nil {
			st.Layers = append(st.Layers, layerStats(s))
		} else {
			st.Raw = append(st.Raw, RawStats{Name: s.Raw.Name, Values: len(s.Raw.Data), Type: s.Raw.Precision.String(), Bytes: s.Size})
		}
	}
	params, _ := spec.NumParams() // the decoder validated the spec
	if TensorsOnly(spec) {
		params = 0
		for _, l := range st.Layers {
			params += l.Weights
		}
		for _, r := range st.Raw {
			params += r.Values
		}
	}
	st.total(d.off, int64(params), d.head)
	return st, nil
}

func layerStats(s *Section) LayerStats {
	l := s.Layer
	n := numel(l.Shape)
	ls := LayerStats{
		Name: l.Name, Kind: string(l.Kind), Weights: n, Kept: len(l.Pos),
		Entries: s.Entries, Fillers: s.Fillers, Codebook: len(l.Codebook), CodebookType: l.Precision.String(),
		KeptPct:    pct(float64(len(l.Pos)), float64(n)),
		WeightBits: l.Bits, IndexBits: l.IndexBits, Bytes: s.Size,
		Coder: l.Coder.String(), CodedBytes: s.CodedBytes,
		BitsPerPosition: float64(8*s.CodedBytes) / float64(n),
	}
	wb, ib := float64(s.WeightBytes), float64(s.IndexBytes)
	if l.Coder == CoderArith {
		wb, ib = arithSplit(l, s.CodedBytes)
	}
	if kept := len(l.Pos); kept > 0 {
		ls.WeightBitsHuffman = 8 * wb / float64(kept)
		ls.IndexBitsHuffman = 8 * ib / float64(kept)
		ls.BitsPerWeight = float64(8*s.CodedBytes) / float64(kept)
	}
	ls.PQPct = pct(float64(s.Entries*(l.Bits+l.IndexBits)+8*l.Precision.size()*len(l.Codebook)), float64(32*n))
	ls.PQHPct = pct(float64(8*s.Size), float64(32*n))
	return ls
}

func pct(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

func (st *Stats) total(fileBytes, params, head int64) {
	t := &st.Total
	var wbits, wbitsH, ibits, ibitsH, pqBits float64
	for _, l := range st.Layers {
		t.Weights += l.Weights
		t.Kept += l.Kept
		t.Entries += l.Entries
		t.LayerBytes += int64(l.Bytes)
		t.CodedBytes += int64(l.CodedBytes)
		if l.Coder == CoderArith.String() {
			t.ArithLayers++
		}
		e := float64(l.Kept)
		wbits += e * float64(l.WeightBits)
		wbitsH += e * l.WeightBitsHuffman
		ibits += e * float64(l.IndexBits)
		ibitsH += e * l.IndexBitsHuffman
		pqBits += l.PQPct / 100 * float64(32*l.Weights)
	}
	for _, r := range st.Raw {
		t.RawBytes += int64(r.Bytes)
	}
	if t.Kept > 0 {
		e := float64(t.Kept)
		t.WeightBits, t.WeightBitsHuffman = wbits/e, wbitsH/e
		t.IndexBits, t.IndexBitsHuffman = ibits/e, ibitsH/e
		t.BitsPerWeight = float64(8*t.CodedBytes) / e
	}
	if t.Weights > 0 {
		t.BitsPerPosition = float64(8*t.CodedBytes) / float64(t.Weights)
	}
	t.KeptPct = pct(float64(t.Kept), float64(t.Weights))
	t.PQPct = pct(pqBits, float64(32*t.Weights))
	t.PQHPct = pct(float64(8*t.LayerBytes), float64(32*t.Weights))
	t.OverheadBytes = fileBytes - t.LayerBytes - t.RawBytes
	t.Params = params
	t.DenseBytes = 4 * params
	t.FileBytes = fileBytes
	if fileBytes > 0 {
		t.Ratio = float64(t.DenseBytes) / float64(fileBytes)
	}
}

// WriteText prints the statistics as the paper's per-layer table followed
// by the raw tensors and the whole-file comparison.
func (st *Stats) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\t#weights\tkept\tw bits\tw bits +H\tidx bits\tidx bits +H\tcoder\tbits/w\tbits/pos\tP+Q\tP+Q+H\tbytes\tcodebook\t\n")
	for _, l := range st.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%d\t%.2f\t%d\t%.2f\t%s\t%.2f\t%.3f\t%.2f%%\t%.2f%%\t%d\t%d %s\t\n",
			l.Name, l.Weights, l.KeptPct, l.WeightBits, l.WeightBitsHuffman,
			l.IndexBits, l.IndexBitsHuffman, l.Coder, l.BitsPerWeight, l.BitsPerPosition,
			l.PQPct, l.PQHPct, l.Bytes, l.Codebook, l.CodebookType)
	}
	t := st.Total
	fmt.Fprintf(tw, "total\t%d\t%.1f%%\t%.2f\t%.2f\t%.2f\t%.2f\t\t%.2f\t%.3f\t%.2f%%\t%.2f%%\t%d\t\t\n",
		t.Weights, t.KeptPct, t.WeightBits, t.WeightBitsHuffman,
		t.IndexBits, t.IndexBitsHuffman, t.BitsPerWeight, t.BitsPerPosition, t.PQPct, t.PQHPct, t.LayerBytes)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range st.Raw {
		fmt.Fprintf(w, "raw %s: %d %s values, %d bytes\n", r.Name, r.Values, r.Type, r.Bytes)
	}
	_, err := fmt.Fprintf(w, "file: %d bytes (layers %d, raw %d, header and description %d); dense: %d params, %d bytes; ratio %.1fx\n",
		t.FileBytes, t.LayerBytes, t.RawBytes, t.OverheadBytes, t.Params, t.DenseBytes, t.Ratio)
	return err
}
