package kafka

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestManyHostsAndModules ships many modules of several simulated hosts at
// once through one topic to one collector: every record arrives exactly
// once, in order and in the same files, and the mirror verifies clean.
func TestManyHostsAndModules(t *testing.T) {
	_, url := newCluster(t, 6)
	root, mirror := t.TempDir(), t.TempDir()
	var srcs []*source
	for h := range 3 {
		for m := range 4 {
			srcs = append(srcs, newSource(t, root, fmt.Sprintf("host%d", h), fmt.Sprintf("Module%d", m), true))
		}
	}
	srcs = append(srcs, newSource(t, root, "host0", "Plain", false))

	r := newRunner()
	defer r.stop(t)
	for _, s := range srcs {
		startShipper(t, r, s, url)
	}
	c := startCollector(t, r, url, mirror)
	for range 3 {
		for _, s := range srcs {
			s.log(t, 40)
		}
	}
	for _, s := range srcs {
		s.close(t)
	}
	for _, s := range srcs {
		waitFor(t, s.host+"/"+s.module, func() bool { return s.mirrored(t, mirror) })
	}
	r.stop(t)
	for _, s := range srcs {
		s.checkMirror(t, mirror)
	}
	if st := c.Stats(); st.Bad != 0 {
		t.Errorf("stats %+v", st)
	}
	_ = filepath.Join
}
