//go:build race

package parallel

// raceEnabled: the race detector makes sync.Pool drop items on purpose.
const raceEnabled = true
