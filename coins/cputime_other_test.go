//go:build !unix

package coins

import "time"

func cpuTime() time.Duration { return 0 }
