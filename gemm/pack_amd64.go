//go:build amd64 && !purego

package gemm

// packLinesAVX2 sets dst[q*width+r] = scale*src[r*ld+q] for r < lines
// (even) and q < 8*q8.
//
//go:noescape
func packLinesAVX2(dst *float32, width int, src *float32, ld int, lines int, q8 int, scale float32)

// packRowsAVX2 sets dst[q*width+r] = scale*src[q*ld+r] for q < rows and
// r < w.
//
//go:noescape
func packRowsAVX2(dst *float32, width int, src *float32, ld int, rows int, w int, scale float32)

// packRowsFast is packRowsGo with the copying done by packRowsAVX2.
func packRowsFast(panel, src []float32, off, ld, kc, w, width int, scale float32) {
	if kc == 0 || w == 0 {
		packRowsGo(panel, src, off, ld, kc, w, width, scale)
		return
	}
	_ = panel[kc*width-1]
	_ = src[off+(kc-1)*ld+w-1] // the last element read
	packRowsAVX2(&panel[0], width, &src[off], ld, kc, w, scale)
	zeroColumns(panel, w, width, kc)
}

// packLinesFast is packLinesGo with the bulk transposed by packLinesAVX2:
// pairs of lines, 8 k steps at a time. The last odd line and the last
// kc%8 steps are left to Go.
func packLinesFast(panel, src []float32, off, ld, w, kc, width int, scale float32) {
	lines, q8 := w&^1, kc/8
	if lines == 0 || q8 == 0 {
		packLinesGo(panel, src, off, ld, w, kc, width, scale)
		return
	}
	_ = panel[kc*width-1]
	_ = src[off+(lines-1)*ld+8*q8-1] // the last element read
	packLinesAVX2(&panel[0], width, &src[off], ld, lines, q8, scale)
	transposeLines(panel, src, off, ld, 0, lines, 8*q8, kc, width, scale)
	transposeLines(panel, src, off, ld, lines, w, 0, kc, width, scale)
	zeroColumns(panel, w, width, kc)
}

// spreadRowsFast is spreadRowsGo with each source row copied by
// packRowsAVX2.
func spreadRowsFast(dst, src []float32, off, ld, kc, panels, nr int) {
	if kc == 0 || panels == 0 {
		return
	}
	_ = dst[panels*kc*nr-1]
	_ = src[off+(kc-1)*ld+panels*nr-1] // the last element read
	for q := 0; q < kc; q++ {
		packRowsAVX2(&dst[q*nr], kc*nr, &src[off+q*ld], nr, panels, nr, 1)
	}
}
