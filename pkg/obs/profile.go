package obs

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

// StartCPUProfile writes a CPU profile of the process into path until the
// returned stop is called or max has passed, whichever comes first (max
// <= 0: until stop), so that a forgotten profile cannot grow without
// bound. It is opt-in (a flag of the binary) and served nowhere.
func StartCPUProfile(path string, max time.Duration) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		})
	}
	if max > 0 {
		time.AfterFunc(max, stop)
	}
	return stop, nil
}
