package audit

import (
	"sync"
	"time"
)

// background runs a Logger's periodic work (retention, the interval sync,
// the check that the active file is in place, checkpoints), each in a
// goroutine of its own, until stop; and keeps the errors of that work for
// Close to return.
type background struct {
	done chan struct{} // closed by stop
	kick chan struct{} // asks the retention goroutine to run now
	wg   sync.WaitGroup

	mu   sync.Mutex
	errs []error // at most maxBackgroundErrors
}

// maxBackgroundErrors bounds the background errors that Close returns.
const maxBackgroundErrors = 16

// init prepares bg before its first use.
func (bg *background) init() {
	bg.done, bg.kick = make(chan struct{}), make(chan struct{}, 1)
}

// every starts a goroutine that calls fn every d, and at once whenever kick
// receives (a nil kick never does), until stop.
func (bg *background) every(d time.Duration, kick <-chan struct{}, fn func()) {
	bg.wg.Add(1)
	go func() {
		defer bg.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-bg.done:
				return
			case <-t.C:
			case <-kick:
			}
			fn()
		}
	}()
}

// kickRetention asks the retention goroutine to run now, without waiting.
func (bg *background) kickRetention() {
	select {
	case bg.kick <- struct{}{}:
	default:
	}
}

// keep keeps err for Close.
func (bg *background) keep(err error) {
	bg.mu.Lock()
	if len(bg.errs) < maxBackgroundErrors {
		bg.errs = append(bg.errs, err)
	}
	bg.mu.Unlock()
}

// stop stops every goroutine and waits for them to return.
func (bg *background) stop() {
	close(bg.done)
	bg.wg.Wait()
}

// kept returns the errors kept.
func (bg *background) kept() []error {
	bg.mu.Lock()
	defer bg.mu.Unlock()
	return bg.errs
}
