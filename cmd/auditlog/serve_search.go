package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// page is what the page layout renders around a page's content.
type page struct {
	Title   string
	Nav     string // the page's name in the navigation
	Refresh bool   // reload every few seconds: the overview while counting
	Query   url.Values
	Err     string // a filter that could not be read
	Data    any
}

// templateFuncs are the functions of the templates. Every record value
// goes through shown, which makes control characters, bidirectional
// overrides and other invisible runes visible as escapes, as the command
// line's table does; html/template then escapes it for its context.
var templateFuncs = template.FuncMap{
	"shown": func(s string) string { return escapeText(s) },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05.000000Z")
	},
	"types":    func() []string { return typeNames[1:] },
	"withPage": withPage,
	"barTitle": barTitle,
	// columnTitle is a report column's title: FIRST_FAILURE as
	// "first failure".
	"columnTitle": func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", " ")) },
	"add":         func(a, b int) int { return a + b },
	// navTo returns the URL of path with the filters of q.
	"navTo": func(path string, q url.Values) string {
		if e := filtersOf(q).Encode(); e != "" {
			return path + "?" + e
		}
		return path
	},
	"moduleQuery":   func(m string) url.Values { return url.Values{"module": {m}} },
	"failuresQuery": func(m string) url.Values { return url.Values{"module": {m}, "outcome": {"failure"}} },
	"stateClass": func(state string) string {
		switch state {
		case "verified":
			return "ok"
		case "TAMPERED", "error":
			return "bad"
		case "not sealed", "no key":
			return "warn"
		}
		return "muted"
	},
	"reportList": func() []string {
		names := make([]string, len(reportKinds))
		for i, k := range reportKinds {
			names[i] = k.name
		}
		return names
	},
	"reportOf": func(name string, q url.Values) string {
		c := filtersOf(q)
		c.Set("report", name)
		return "/reports?" + c.Encode()
	},
	"reportSummary": func(name string) string { return reportSummaries[name] },
}

// reportSummaries say what each report shows.
var reportSummaries = map[string]string{
	"logons":   "Logons by actor and client: failed and successful attempts, with the first and last failure; most failures first.",
	"failures": "Failed events of every type by type, actor and client, with the first and last time; most first.",
	"changes":  "Every change to users, access rights and configuration, with its old and new value, in time order.",
	"sessions": "Records by session: actor, client, first and last time, records and failures.",
	"daily":    "Records per day (UTC) and event type, with successes and failures.",
}

// filtersOf returns the filters of q, without the page's other
// parameters.
func filtersOf(q url.Values) url.Values {
	c := url.Values{}
	for _, k := range filterFields {
		if vs, ok := q[k]; ok {
			c[k] = vs
		}
	}
	return c
}

// render writes the page named name, within the layout.
func (s *server) render(w http.ResponseWriter, name string, p *page) {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, p); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// filterFields are the filters of a search, by their names in the query
// string, which are those of the flags of 'auditlog query'.
var filterFields = []string{"since", "until", "module", "type", "outcome", "actor", "subject", "object", "client", "session", "grep"}

// parseFilter reads the filters of a request with the flags of 'auditlog
// query', so that the same values select the same records.
func (s *server) parseFilter(q url.Values) (*filter, error) {
	f := &filter{}
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defineFilters(s.e, fs, f)
	var args []string
	for _, name := range filterFields {
		for _, v := range q[name] {
			if strings.TrimSpace(v) != "" {
				args = append(args, "--"+name+"="+v)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, errors.New(strings.Replace(err.Error(), "invalid value", "value", 1))
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := checkModule(s.dir, f.module); err != nil {
		return nil, err
	}
	return f, nil
}

// filterQuery returns the query string of the flags of 'auditlog query'
// given in pairs, as filterArgs and the reports' drill-downs make them.
func filterQuery(flags []string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(flags); i += 2 {
		q.Add(strings.TrimPrefix(flags[i], "--"), flags[i+1])
	}
	return q
}

// withPage returns the search URL of q at page n.
func withPage(q url.Values, n int) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	c.Set("page", strconv.Itoa(n))
	return "/search?" + c.Encode()
}

// startScan waits for a slot and opens a scan of the records that pass f,
// or reports why it cannot. Close the scan with s.endScan.
func (s *server) startScan(r *http.Request, f *filter) (*scan, error) {
	select {
	case s.scans <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	sc, err := openScan(s.dir, f, &reporter{w: io.Discard})
	if err != nil {
		<-s.scans
		if errors.Is(err, errNoFiles) {
			return nil, err
		}
		return nil, cleanErr(err)
	}
	return sc, nil
}

func (s *server) endScan(sc *scan) {
	sc.close()
	<-s.scans
}

// pageSize is the number of rows of a page of search results.
const pageSize = 100

// searchRow is a row of the search results.
type searchRow struct {
	R    *audit.Record
	Link string // the record's page
	// Filter links narrow the search to the row's actor, client and
	// session.
	Actor, Client, Session string
}

// searchData is what the search page shows around its rows.
type searchData struct {
	Page  int
	Shown int
	From  int  // number of the first row shown
	More  bool // there is a next page
	Stop  string
	CSV   string
	JSONL string
}

// searchPage streams the results of a search: the page's head is sent at
// once and each row as it is found, so that the browser shows the first
// rows while the scan goes on.
func (s *server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := &page{Title: "Search", Nav: "search", Query: q}
	n, _ := strconv.Atoi(q.Get("page"))
	d := &searchData{Page: max(1, n)}
	p.Data = d
	f, err := s.parseFilter(q)
	if err != nil {
		p.Err = err.Error()
		s.render(w, "search-error", p)
		return
	}
	export := filtersOf(q)
	d.CSV, d.JSONL = "/export.csv?"+export.Encode(), "/export.jsonl?"+export.Encode()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	if err := s.tmpl.ExecuteTemplate(w, "search-top", p); err != nil {
		return
	}
	rc.Flush()
	sc, err := s.startScan(r, f)
	if err != nil {
		if !errors.Is(err, errNoFiles) {
			d.Stop = err.Error()
		}
		s.tmpl.ExecuteTemplate(w, "search-bottom", p)
		return
	}
	defer s.endScan(sc)
	skip := (d.Page - 1) * pageSize
	d.From = skip + 1
	lastFlush := time.Now()
	for {
		en, ok := sc.next()
		if !ok {
			break
		}
		if skip > 0 {
			skip--
			continue
		}
		if d.Shown == pageSize {
			d.More = true
			break
		}
		rec, err := en.record()
		if err != nil {
			continue
		}
		if err := s.tmpl.ExecuteTemplate(w, "search-row", s.rowOf(q, en, rec)); err != nil {
			return // the browser went away
		}
		d.Shown++
		// Flush each row found after a pause at once, and the rows of a
		// quick run in groups.
		if now := time.Now(); d.Shown < 10 || now.Sub(lastFlush) > 50*time.Millisecond {
			if rc.Flush() != nil {
				return
			}
			lastFlush = now
		}
		if r.Context().Err() != nil {
			return
		}
	}
	s.tmpl.ExecuteTemplate(w, "search-bottom", p)
}

// rowOf returns the search row of a record.
func (s *server) rowOf(q url.Values, en *entry, rec *audit.Record) *searchRow {
	row := &searchRow{R: rec}
	rq := url.Values{"module": {rec.Module}, "file": {filepath.Base(en.path())}, "line": {strconv.Itoa(en.lineNo)}}
	row.Link = "/record?" + rq.Encode()
	narrow := func(name, v string) string {
		if v == "" {
			return ""
		}
		c := filtersOf(q)
		c.Set(name, valueArg(v))
		return "/search?" + c.Encode()
	}
	row.Actor, row.Client, row.Session = narrow("actor", rec.Event.Actor), narrow("client", rec.Event.Client), narrow("session", rec.Event.Session)
	return row
}

// recordData is the record page's data.
type recordData struct {
	R      *audit.Record
	File   string
	Line   int
	Raw    string
	Fields []audit.Field
	Search string // the records of the same session, or actor
}

// recordPage shows one record in full, found by its module, file (a name
// that the module's listing must hold) and line.
func (s *server) recordPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := &page{Title: "Record", Nav: "search"}
	module, name := q.Get("module"), q.Get("file")
	line, err := strconv.Atoi(q.Get("line"))
	if !moduleRE.MatchString(module) || err != nil || line < 1 {
		p.Err = "want a module, a file of it and a line number"
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, "record", p)
		return
	}
	files, err := audit.ListFiles(s.dir, module)
	if err != nil {
		p.Err = err.Error()
		s.render(w, "record", p)
		return
	}
	var af *audit.File
	for i := range files {
		if filepath.Base(files[i].Path) == name {
			af = &files[i]
		}
	}
	if af == nil {
		p.Err = fmt.Sprintf("module %s has no file %s (rotated or removed since?)", module, name)
		w.WriteHeader(http.StatusNotFound)
		s.render(w, "record", p)
		return
	}
	lr, err := audit.OpenFile(*af)
	if err != nil {
		p.Err = err.Error()
		s.render(w, "record", p)
		return
	}
	defer lr.Close()
	for {
		l, err := lr.Next()
		if errors.Is(err, audit.ErrLineTooLong) {
			continue
		}
		if err != nil {
			p.Err = fmt.Sprintf("%s has no line %d", name, line)
			if !errors.Is(err, io.EOF) {
				p.Err = err.Error()
			}
			break
		}
		if l.Number != line {
			continue
		}
		rec, err := audit.ParseRecord(l.Text)
		d := &recordData{File: name, Line: line, Raw: string(l.Text)}
		if err != nil {
			p.Err = err.Error()
		} else {
			d.R = &rec
			for i := range rec.Event.NumFields() {
				d.Fields = append(d.Fields, rec.Event.Field(i))
			}
			sq := url.Values{"module": {module}}
			if rec.Event.Session != "" {
				sq.Set("session", valueArg(rec.Event.Session))
			} else if rec.Event.Actor != "" {
				sq.Set("actor", valueArg(rec.Event.Actor))
			}
			d.Search = "/search?" + sq.Encode()
		}
		p.Data = d
		break
	}
	s.render(w, "record", p)
}

// export writes the records of the filters of r with the printer of
// format, as a download.
func (s *server) export(w http.ResponseWriter, r *http.Request, format, contentType, name string) {
	f, err := s.parseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v := &view{columns: columns}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	pr, err := newPrinter(format, w, v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sc, err := s.startScan(r, f)
	if err != nil {
		if !errors.Is(err, errNoFiles) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return
	}
	defer s.endScan(sc)
	for i := 0; ; i++ {
		en, ok := sc.next()
		if !ok {
			break
		}
		if err := pr.print(en); err != nil && r.Context().Err() != nil {
			return
		}
		if i&0xfff == 0 && r.Context().Err() != nil {
			return
		}
	}
	pr.flush()
}

func (s *server) exportCSV(w http.ResponseWriter, r *http.Request) {
	s.export(w, r, "csv", "text/csv; charset=utf-8", "audit-records.csv")
}

func (s *server) exportJSONL(w http.ResponseWriter, r *http.Request) {
	s.export(w, r, "json", "application/x-ndjson", "audit-records.jsonl")
}
