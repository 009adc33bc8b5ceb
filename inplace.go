package audit

import (
	"fmt"
	"sync/atomic"
)

// replacedCheck notes that the active file was found removed or replaced
// from outside (by a sync or by checkInPlace, every inPlaceInterval), so
// that the next record starts a new file with a [FileReplaced] record.
type replacedCheck struct {
	found atomic.Bool
}

// note notes a replaced file. It reports whether it was not noted yet,
// so that the finding is reported once.
func (r *replacedCheck) note() bool { return !r.found.Swap(true) }

// take reports whether a replaced file was noted, and clears the note.
func (r *replacedCheck) take() bool { return r.found.Load() && r.found.Swap(false) }

// checkInPlace checks that the active file is still at its path; if it was
// removed or replaced from outside, the next record starts a new file.
func (l *Logger) checkInPlace() {
	w := l.file.out.(*fileWriter)
	l.mu.Lock()
	l.acquire()
	l.mu.Unlock()
	replaced := w.Replaced()
	l.mu.Lock()
	l.release()
	l.mu.Unlock()
	if replaced && l.replace.note() {
		l.backgroundError(fmt.Errorf("audit: %s: %w; the next record starts a new file", w.Path(), errFileReplaced))
	}
}
