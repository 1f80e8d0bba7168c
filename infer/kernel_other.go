//go:build !amd64 || purego

package infer

func kernelName() string { return "go" }

func spmv(m *sharedMatrix, x, b, y []float32, r0, r1 int, relu bool) {
	spmvGo(m, x, b, y, r0, r1, relu)
}

func spmm(m *sharedMatrix, x []float32, ldx, lanes int, b, y []float32, ldy, r0, r1 int, relu bool) {
	spmmGo(m, x, ldx, lanes, b, y, ldy, r0, r1, relu)
}
