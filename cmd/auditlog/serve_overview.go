package main

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/auditkit/audit"
)

//go:embed web
var webFiles embed.FS

// server is the web viewer of an audit directory. It only reads the
// directory. Its handlers are safe for concurrent use; close stops its
// background work.
type server struct {
	e        *env
	dir      string
	keys     keySource
	token    string // required of every request when not empty
	loopback bool   // listening on loopback only
	mux      *http.ServeMux
	tmpl     *template.Template
	scans    chan struct{} // a slot for each scan that may run at once
	ov       *overview
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// maxScans is how many searches, timelines, reports and exports may read
// the directory at once; more wait for a slot. With the background count,
// it bounds the memory of the readers.
const maxScans = 4

// newServer returns the viewer of dir and starts counting its records and
// verifying its modules in the background.
func newServer(e *env, dir string, keys keySource, token string, loopback bool) (*server, error) {
	tmpl, err := template.New("").Funcs(templateFuncs).ParseFS(webFiles, "web/*.html")
	if err != nil {
		return nil, err
	}
	mods, err := audit.Modules(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{e: e, dir: dir, keys: keys, token: token, loopback: loopback, tmpl: tmpl,
		scans: make(chan struct{}, maxScans), ctx: ctx, cancel: cancel, ov: newOverview(mods)}
	static, _ := fs.Sub(webFiles, "web/static")
	s.mux = http.NewServeMux()
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.overviewPage)
	s.mux.HandleFunc("GET /timeline", s.timelinePage)
	s.mux.HandleFunc("GET /search", s.searchPage)
	s.mux.HandleFunc("GET /record", s.recordPage)
	s.mux.HandleFunc("GET /reports", s.reportsPage)
	s.mux.HandleFunc("GET /export.csv", s.exportCSV)
	s.mux.HandleFunc("GET /export.jsonl", s.exportJSONL)
	s.wg.Add(2)
	go s.count()
	go s.verify()
	return s, nil
}

// close stops the background work and waits for it (a module being
// verified is finished first).
func (s *server) close() {
	s.cancel()
	s.wg.Wait()
}

// overview is what the overview page shows, filled in by the background
// work.
type overview struct {
	mu        sync.Mutex
	modules   []*moduleSummary
	counting  bool
	countErr  string
	problems  int // lines skipped while counting
	doneBytes int64
	allBytes  int64
	countedAt time.Time
	verified  int // modules verified so far
}

// moduleSummary is one module's row of the overview.
type moduleSummary struct {
	Name     string
	Records  int
	Failures int
	First    time.Time
	Newest   time.Time
	Verdict  integrity
}

// integrity is the integrity verdict of a module, as 'auditlog verify'
// words it.
type integrity struct {
	State  string // "" while waiting, "verifying", "verified", "not sealed", "TAMPERED", "no key", "error"
	Detail string
	// Problem is the first problem of a tampered module.
	Problem *audit.Problem
}

func newOverview(mods []string) *overview {
	ov := &overview{counting: true}
	for _, m := range mods {
		ov.modules = append(ov.modules, &moduleSummary{Name: m})
	}
	return ov
}

// snapshot returns a copy of ov to render.
func (ov *overview) snapshot() overviewData {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	d := overviewData{Counting: ov.counting, CountErr: ov.countErr, Problems: ov.problems,
		Verified: ov.verified, CountedAt: ov.countedAt}
	if ov.allBytes > 0 {
		d.Percent = int(min(100, ov.doneBytes*100/ov.allBytes))
	}
	for _, m := range ov.modules {
		d.Modules = append(d.Modules, *m)
	}
	d.Verifying = ov.verified < len(ov.modules)
	if !d.Verifying {
		d.Integrity = integritySummary(d.Modules)
	}
	return d
}

// integritySummary counts the modules by verdict, in the order of
// verifyStates, as "2 verified, 1 TAMPERED": the status line must not
// read as if every module verified when one did not.
func integritySummary(mods []moduleSummary) string {
	var parts []string
	for _, state := range verifyStates {
		n := 0
		for _, m := range mods {
			if m.Verdict.State == state {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, state))
		}
	}
	return strings.Join(parts, ", ")
}

// verifyStates are the final verdicts of integrity, the worst first.
var verifyStates = []string{"TAMPERED", "error", "no key", "not sealed", "verified"}

// overviewData is the overview page's data.
type overviewData struct {
	Modules   []moduleSummary
	Counting  bool
	Percent   int
	CountErr  string
	Problems  int
	CountedAt time.Time
	Verified  int
	Verifying bool
	// Integrity counts the modules by verdict once all are verified.
	Integrity string
}

// count reads every record of the directory once, from its leading
// fields only, for the overview's counts.
func (s *server) count() {
	defer s.wg.Done()
	ov := s.ov
	finish := func(msg string) {
		ov.mu.Lock()
		ov.counting, ov.countErr, ov.countedAt = false, msg, time.Now()
		ov.mu.Unlock()
	}
	rep := &reporter{w: io.Discard}
	sc, err := openScan(s.dir, &filter{}, rep)
	if err != nil {
		if err == errNoFiles {
			finish("")
		} else {
			finish(cleanErr(err).Error())
		}
		return
	}
	defer sc.close()
	ov.mu.Lock()
	ov.allBytes = sc.totalBytes
	ov.mu.Unlock()
	byName := map[string]*moduleSummary{}
	for _, m := range ov.modules {
		byName[m.Name] = m
	}
	// Counts are gathered here and handed over now and then, so that the
	// page never waits for the lock long.
	type tally struct {
		n, failed     int
		first, newest time.Time
	}
	local := map[string]*tally{}
	publish := func() {
		ov.mu.Lock()
		defer ov.mu.Unlock()
		for name, t := range local {
			m := byName[name]
			if m == nil {
				m = &moduleSummary{Name: name}
				byName[name] = m
				ov.modules = append(ov.modules, m)
			}
			m.Records, m.Failures, m.First, m.Newest = t.n, t.failed, t.first, t.newest
		}
		var cur int64
		for _, st := range sc.all {
			cur += st.reading.Load()
		}
		ov.doneBytes = sc.doneBytes.Load() + cur
		ov.problems = rep.problems
	}
	for i := 0; ; i++ {
		if i&0xfff == 0 {
			if s.ctx.Err() != nil {
				return
			}
			publish()
		}
		en, ok := sc.next()
		if !ok {
			break
		}
		name := en.file.module
		t := local[name]
		if t == nil {
			t = &tally{}
			local[name] = t
		}
		at := en.when()
		if t.n == 0 || at.Before(t.first) {
			t.first = at
		}
		if at.After(t.newest) {
			t.newest = at
		}
		t.n++
		if en.outcome() == audit.Failed {
			t.failed++
		}
	}
	publish()
	finish("")
}

// verify verifies each module in turn for the overview.
func (s *server) verify() {
	defer s.wg.Done()
	ov := s.ov
	ov.mu.Lock()
	mods := make([]*moduleSummary, len(ov.modules))
	copy(mods, ov.modules)
	ov.mu.Unlock()
	for _, m := range mods {
		if s.ctx.Err() != nil {
			return
		}
		ov.mu.Lock()
		m.Verdict.State = "verifying"
		ov.mu.Unlock()
		v := s.verdictOf(m.Name)
		ov.mu.Lock()
		m.Verdict = v
		ov.verified++
		ov.mu.Unlock()
	}
}

// verdictOf verifies module with its key.
func (s *server) verdictOf(module string) integrity {
	key, err := s.keys.key(module)
	if err != nil {
		return integrity{State: "error", Detail: err.Error()}
	}
	r, err := audit.Verify(s.dir, module, key)
	if err != nil {
		return integrity{State: "error", Detail: err.Error()}
	}
	line, _ := moduleVerdict(r, key != nil, s.keys.dir != "", false)
	detail := strings.TrimSpace(strings.TrimPrefix(line, r.Module))
	switch {
	case !r.Sealed:
		return integrity{State: "not sealed", Detail: strings.TrimPrefix(detail, "not sealed: ")}
	case r.Problem != nil && r.Problem.Kind == audit.WrongKey && key == nil:
		return integrity{State: "no key", Detail: "the module is sealed with a key: give its original key with --key-dir or --key-file to verify it"}
	case r.Problem != nil:
		p := *r.Problem
		p.File = filepath.Base(p.File)
		if _, counts, ok := strings.Cut(detail, "): "); ok {
			detail = counts // the state and kind are shown apart
		}
		return integrity{State: "TAMPERED", Detail: detail, Problem: &p}
	}
	return integrity{State: "verified", Detail: strings.TrimPrefix(detail, "verified: ")}
}

func (s *server) overviewPage(w http.ResponseWriter, r *http.Request) {
	d := s.ov.snapshot()
	s.render(w, "overview", &page{Title: "Overview", Nav: "overview", Refresh: d.Counting || d.Verifying, Data: d})
}
