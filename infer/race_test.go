//go:build race

package infer

// raceEnabled: the race detector makes sync.Pool drop items, so calls
// that reuse pooled buffers allocate.
const raceEnabled = true
