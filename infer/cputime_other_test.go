//go:build !unix

package infer

import "time"

func cpuTime() time.Duration { return 0 }
