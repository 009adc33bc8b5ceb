package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// Hostile values of the viewer's test records: each must be shown as
// text, never run or followed.
const (
	hostileScript = "<script>alert(1)</script>"
	hostileAttr   = `"><img src=x onerror=alert(2)>`
	hostileURL    = "javascript:alert(3)"
	hostileBidi   = "invoice\u202egpj.exe"
	hostileFormla = "=HYPERLINK(\"http://evil.example\",\"x\")"
	hostilePlus   = "+cmd|' /C calc'!A0"
	hostileAt     = "@SUM(A1:A9)"
	hostileMinus  = "-2+3"
)

// viewerDir writes the viewer's test directory with the library: module
// Sealed (sealed, 250 records over three days, a change with old and new
// values), Tampered (sealed, one record changed afterwards) and Plain (not
// sealed, records with hostile values). It returns the directory, the key
// directory holding Sealed.key and Tampered.key, and the tampered file
// and line.
func viewerDir(t *testing.T) (dir, keyDir, tamperedFile string, tamperedLine int) {
	t.Helper()
	dir, keyDir = t.TempDir(), t.TempDir()
	for _, module := range []string{"Sealed", "Tampered"} {
		live := filepath.Join(t.TempDir(), module+".key")
		require.NoError(t, audit.NewKey(live))
		data, err := os.ReadFile(live)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(keyDir, module+".key"), data, 0o600))
		cfg := config(dir, module, "BCM")
		start := base
		if module == "Tampered" {
			start = base.Add(time.Hour)
		}
		cfg.Now = fakeClock(start)
		cfg.Integrity, cfg.IntegrityKeyFile, cfg.MaxSize = true, live, 8000
		if module == "Tampered" {
			cfg.MaxSize = audit.MinFileSize
		}
		var events []audit.Event
		n := 250
		if module == "Tampered" {
			n = 40
		}
		for i := range n {
			e := audit.Event{Outcome: audit.Succeeded, Type: audit.Logon, Actor: fmt.Sprint("user", i%7), Client: fmt.Sprint("10.0.0.", i%5),
				Time: start.Add(time.Duration(i) * 17 * time.Minute)}
			if i%4 == 0 {
				e.Outcome, e.Reason = audit.Failed, "invalid password"
			}
			if i%25 == 3 {
				e = audit.Event{Outcome: audit.Succeeded, Type: audit.UserChange, Actor: "admin", Subject: fmt.Sprint("user", i%7), Object: "phone",
					OldValue: "+49 30 1234", NewValue: "+49 30 9876", Time: e.Time}
			}
			events = append(events, e)
		}
		logAll(t, cfg, events...)
	}
	files, err := audit.ListFiles(dir, "Tampered")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 2)
	tamperedFile = files[0].Path
	data, err := os.ReadFile(tamperedFile)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	tamperedLine = 3
	lines[tamperedLine-1] = strings.Replace(lines[tamperedLine-1], "user", "usef", 1)
	require.NoError(t, os.WriteFile(tamperedFile, []byte(strings.Join(lines, "")), 0o640))

	cfg := config(dir, "Plain", "JSON")
	cfg.Now = fakeClock(base.Add(2 * time.Hour))
	logAll(t, cfg,
		audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: hostileScript, Client: hostileURL, Reason: hostileAttr, Time: base.Add(2 * time.Hour)},
		audit.Event{Outcome: audit.Succeeded, Type: audit.UserChange, Actor: hostileAttr, Subject: hostileBidi, Object: hostileScript,
			OldValue: hostileFormla, NewValue: hostilePlus, Reason: hostileAt, Session: hostileMinus, Time: base.Add(2*time.Hour + time.Minute)},
		audit.Event{Outcome: audit.Succeeded, Type: audit.DataRead, Actor: hostileURL, Subject: hostileAt, Object: hostileBidi, Client: hostileFormla, Time: base.Add(2*time.Hour + 2*time.Minute)},
	)
	return dir, keyDir, tamperedFile, tamperedLine
}

// newTestServer starts the viewer of dir over httptest and waits for its
// background counting and verifying to end.
func newTestServer(t *testing.T, dir, keyDir, token string) (*server, *httptest.Server) {
	t.Helper()
	e := &env{stdout: io.Discard, stderr: io.Discard, now: func() time.Time { return base.Add(72 * time.Hour) }}
	s, err := newServer(e, dir, keySource{dir: keyDir}, token, token == "")
	require.NoError(t, err)
	s.wg.Wait()
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.close()
	})
	return s, ts
}

// get fetches path from ts and returns the status and body.
func get(t *testing.T, ts *httptest.Server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

func TestServeOverview(t *testing.T) {
	dir, keyDir, tamperedFile, tamperedLine := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	code, body, _ := get(t, ts, "/")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, `http-equiv="refresh"`, "done: no more reloading")
	rows := moduleRows(body)
	require.Len(t, rows, 3)
	require.Contains(t, rows["Sealed"], "<strong>verified</strong>")
	// 250 records and the FILE_START record of each file.
	files, err := audit.ListFiles(dir, "Sealed")
	require.NoError(t, err)
	require.Contains(t, rows["Sealed"], fmt.Sprintf(`<td class="num">%d</td>`, 250+len(files)))
	require.Contains(t, rows["Sealed"], `outcome=failure">60</a>`)
	require.Contains(t, rows["Sealed"], "2026-11-25 09:00:00.000000Z")
	require.Contains(t, rows["Tampered"], "<strong>TAMPERED</strong>")
	require.Contains(t, rows["Tampered"], fmt.Sprintf("%s:%d: modified", filepath.Base(tamperedFile), tamperedLine))
	require.Contains(t, rows["Plain"], "<strong>not sealed</strong>")
	require.Contains(t, rows["Plain"], `<td class="num">3</td>`)
	// The status line counts the verdicts: with a module tampered, it
	// must not read as if every module verified.
	require.Contains(t, body, "integrity: 1 TAMPERED, 1 not sealed, 1 verified.")
	require.NotContains(t, body, "verified for every module")

	// Without the key directory, the sealed modules cannot be verified,
	// and say so rather than TAMPERED.
	_, ts = newTestServer(t, dir, "", "")
	_, body, _ = get(t, ts, "/")
	require.Contains(t, moduleRows(body)["Sealed"], "<strong>no key</strong>")
}

// moduleRows returns the overview's rows by module.
func moduleRows(body string) map[string]string {
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr data-module="([^"]+)">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		rows[m[1]] = m[2]
	}
	return rows
}

// TestServeOverviewWhileCounting checks that the overview answers before
// the background work ends, showing its progress and reloading itself.
func TestServeOverviewWhileCounting(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	e := &env{stdout: io.Discard, stderr: io.Discard, now: time.Now}
	s, err := newServer(e, dir, keySource{dir: keyDir}, "", true)
	require.NoError(t, err)
	defer s.close()
	s.wg.Wait()
	// The page renders what the background work has published so far:
	// set it back to a state in the middle of the work.
	s.ov.mu.Lock()
	s.ov.counting, s.ov.verified, s.ov.doneBytes, s.ov.allBytes = true, 1, 40, 100
	s.ov.mu.Unlock()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "127.0.0.1:8080"
	s.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.Contains(t, body, "counting records… 40% read")
	require.Contains(t, body, "verifying integrity… 1 of 3 module(s) done")
	require.Contains(t, body, `<meta http-equiv="refresh" content="2">`)
	require.Contains(t, body, `<td class="num muted">counting…</td>`)
}

func TestServeSecurityHeaders(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	for _, path := range []string{"/", "/timeline", "/search", "/search?type=NOSUCH", "/reports", "/record?module=Plain&file=x&line=1",
		"/static/style.css", "/export.csv", "/export.jsonl", "/nosuch"} {
		_, _, h := get(t, ts, path)
		require.Equal(t, contentSecurityPolicy, h.Get("Content-Security-Policy"), path)
		require.NotContains(t, h.Get("Content-Security-Policy"), "unsafe-inline")
		require.NotContains(t, h.Get("Content-Security-Policy"), "script-src")
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		req, err := http.NewRequest(method, ts.URL+"/search", strings.NewReader("x=1"))
		require.NoError(t, err)
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
	}
	// No page refers to anything outside the viewer, and none holds a
	// script or an inline style.
	for _, path := range []string{"/", "/timeline", "/search?module=Sealed", "/reports?module=Sealed", "/record?module=Sealed&file=Sealed.audit.log&line=1"} {
		_, body, _ := get(t, ts, path)
		require.NotRegexp(t, `(?i)<script|\son[a-z]+=|style=|(src|href)="(https?:)?//`, body, path)
	}
}

func TestServeHostileRecords(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	code, body, _ := get(t, ts, "/search?module=Plain")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 3, strings.Count(body, `<tr class="rec`))
	checkHostileText(t, body)
	require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, body, "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;")
	require.Contains(t, body, `invoice\u202egpj.exe`)

	// Each record's page too.
	links := regexp.MustCompile(`href="(/record\?[^"]+)"`).FindAllStringSubmatch(body, -1)
	require.Len(t, links, 3)
	for _, l := range links {
		code, page, _ := get(t, ts, strings.ReplaceAll(l[1], "&amp;", "&"))
		require.Equal(t, http.StatusOK, code)
		checkHostileText(t, page)
	}
	// The reports show the same values.
	for _, name := range []string{"logons", "failures", "changes", "sessions", "daily"} {
		_, page, _ := get(t, ts, "/reports?module=Plain&report="+name)
		checkHostileText(t, page)
	}
	// A search for a hostile value is echoed in the form as a value.
	_, page, _ := get(t, ts, "/search?actor="+url.QueryEscape(hostileAttr))
	checkHostileText(t, page)
	require.Contains(t, page, `value="&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"`)
	require.Equal(t, 1, strings.Count(page, `<tr class="rec`))
}

// checkHostileText fails if a page holds a hostile value as markup: a
// script, an element or attribute it brought, a javascript: link, or a
// bidirectional override.
func checkHostileText(t *testing.T, body string) {
	t.Helper()
	require.NotContains(t, body, "<script")
	require.NotContains(t, body, "<img")
	require.NotContains(t, body, "onerror=alert(2)>")
	require.NotRegexp(t, `(?i)href="\s*javascript:`, body)
	require.NotContains(t, body, "\u202e")
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		require.True(t, strings.HasPrefix(m[1], "/"), "a link out of the viewer: %s", m[1])
	}
}

// TestServeNoTrustedTemplateTypes checks that no code of the viewer makes
// a value that html/template would trust (template.HTML and its kin), so
// that no record content can bypass escaping.
func TestServeNoTrustedTemplateTypes(t *testing.T) {
	files, err := filepath.Glob("serve*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "template" {
					require.Contains(t, []string{"Template", "New", "FuncMap"}, sel.Sel.Name, "%s: template.%s", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}

func TestServeExportCSVNeutralisesFormulas(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	code, body, h := get(t, ts, "/export.csv?module=Plain")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/csv; charset=utf-8", h.Get("Content-Type"))
	require.Contains(t, h.Get("Content-Disposition"), "attachment")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	cells := map[string]bool{}
	for _, row := range rows[1:] {
		for _, c := range row {
			if c != "" {
				require.NotContains(t, "=+-@\t\r", c[:1], "a formula cell: %q", c)
			}
			cells[c] = true
		}
	}
	for _, v := range []string{hostileFormla, hostilePlus, hostileAt, hostileMinus} {
		require.True(t, cells["'"+v], "%q neutralised", v)
	}
	require.True(t, cells[hostileScript])

	// JSON Lines: the records as written, which read back.
	code, body, h = get(t, ts, "/export.jsonl?module=Plain&type=USER_CHANGE")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/x-ndjson", h.Get("Content-Type"))
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	require.Len(t, lines, 1)
	rec, err := audit.ParseRecord([]byte(lines[0]))
	require.NoError(t, err)
	require.Equal(t, hostileFormla, rec.Event.OldValue)
	require.Equal(t, hostileBidi, rec.Event.Subject)
}

// TestServeSearchMatchesQuery checks that a search shows exactly the
// records that 'auditlog query' prints for the same filters, page after
// page.
func TestServeSearchMatchesQuery(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	for _, tc := range []struct {
		name  string
		query url.Values
		flags []string
	}{
		{"all", url.Values{}, nil},
		{"failed logons", url.Values{"type": {"LOGON"}, "outcome": {"failure"}}, []string{"--type", "LOGON", "--outcome", "failure"}},
		{"changes of Sealed", url.Values{"type": {"user_change"}, "module": {"Sealed"}}, []string{"--type", "user_change", "--module", "Sealed"}},
		{"period and negation", url.Values{"since": {"2026-11-25T12:00:00Z"}, "until": {"2026-11-26"}, "actor": {"!user3"}},
			[]string{"--since", "2026-11-25T12:00:00Z", "--until", "2026-11-26", "--actor", "!user3"}},
		{"text", url.Values{"grep": {"script"}}, []string{"--grep", "script"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := auditlog(t, append([]string{"query", dir, "--output", "json"}, tc.flags...)...)
			require.Equal(t, 0, r.code, r.stderr)
			var want []string
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				rec, err := audit.ParseRecord(sc.Bytes())
				require.NoError(t, err)
				want = append(want, fmt.Sprintf("%s/%d", rec.Module, rec.Seq))
			}
			require.NotEmpty(t, want)
			var got []string
			for page := 1; ; page++ {
				q := url.Values{}
				for k, v := range tc.query {
					q[k] = v
				}
				q.Set("page", fmt.Sprint(page))
				code, body, _ := get(t, ts, "/search?"+q.Encode())
				require.Equal(t, http.StatusOK, code)
				require.NotContains(t, body, `id="error"`)
				rows := regexp.MustCompile(`data-seq="(\d+)" data-module="([^"]+)"`).FindAllStringSubmatch(body, -1)
				require.LessOrEqual(t, len(rows), pageSize)
				for _, m := range rows {
					got = append(got, m[2]+"/"+m[1])
				}
				if !strings.Contains(body, `id="next"`) {
					break
				}
				require.Len(t, rows, pageSize)
			}
			require.Equal(t, want, got)
		})
	}
}

func TestServeBadFilters(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	for path, want := range map[string]string{
		"/search?type=NOSUCH":                       "unknown event type",
		"/search?outcome=maybe":                     "unknown outcome",
		"/search?since=soon":                        "today, yesterday",
		"/search?module=Nosuch":                     "no module Nosuch",
		"/search?since=2026-11-26&until=2026-11-25": "is not before",
		"/timeline?by=week":                         "want hour or day",
		"/reports?report=nosuch":                    "unknown report",
	} {
		code, body, _ := get(t, ts, path)
		require.Equal(t, http.StatusOK, code, path)
		require.Contains(t, body, `id="error"`, path)
		require.Contains(t, body, want, path)
	}
}

func TestServeRecord(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	_, body, _ := get(t, ts, "/search?module=Sealed&type=USER_CHANGE")
	m := regexp.MustCompile(`href="(/record\?[^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m)
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	code, page, _ := get(t, ts, link)
	require.Equal(t, http.StatusOK, code)
	// html/template writes '+' as &#43;.
	require.Contains(t, html.UnescapeString(page), `<dd class="val" id="old">+49 30 1234</dd>`)
	require.Contains(t, html.UnescapeString(page), `<dd class="val" id="new">+49 30 9876</dd>`)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Contains(t, page, `<dd id="file">`+u.Query().Get("file")+`</dd>`)
	require.Regexp(t, `<dt>Seq</dt><dd>\d+</dd>`, page)
	require.Regexp(t, `<dt>MAC</dt><dd class="mono">[0-9a-f]{64}</dd>`, page)

	for path, want := range map[string]int{
		"/record?module=Sealed&file=../../../../etc/passwd&line=1":       http.StatusNotFound,
		"/record?module=Sealed&file=" + url.QueryEscape(dir) + "&line=1": http.StatusNotFound,
		"/record?module=../x&file=Sealed.audit.log&line=1":               http.StatusBadRequest,
		"/record?module=Sealed&file=Sealed.audit.log&line=0":             http.StatusBadRequest,
	} {
		code, _, _ := get(t, ts, path)
		require.Equal(t, want, code, path)
	}
	_, page, _ = get(t, ts, "/record?module=Sealed&file=Sealed.audit.log&line=999999")
	require.Contains(t, page, "has no line 999999")
}

// TestServeTimeline checks the bars of the timeline against a search of
// each bar's link.
func TestServeTimeline(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	all := strings.Count(auditlog(t, "query", dir, "--module", "Sealed", "--output", "json").stdout, "\n")
	failed := strings.Count(auditlog(t, "query", dir, "--module", "Sealed", "--outcome", "failure", "--output", "json").stdout, "\n")
	require.Equal(t, 60, failed)
	for _, by := range []string{"hour", "day"} {
		code, body, _ := get(t, ts, "/timeline?module=Sealed&by="+by)
		require.Equal(t, http.StatusOK, code)
		bars := regexp.MustCompile(`<a class="bar" href="([^"]+)" data-start="[^"]*" data-ok="(\d+)" data-failed="(\d+)"`).FindAllStringSubmatch(body, -1)
		require.NotEmpty(t, bars)
		total, checked := 0, 0
		for _, b := range bars {
			var ok, failed int
			fmt.Sscan(b[2], &ok)
			fmt.Sscan(b[3], &failed)
			total += ok + failed
			if ok+failed == 0 || checked == 3 {
				continue
			}
			checked++
			_, page, _ := get(t, ts, strings.ReplaceAll(b[1], "&amp;", "&"))
			require.Equal(t, ok+failed, strings.Count(page, `<tr class="rec`), b[1])
			require.Equal(t, failed, strings.Count(page, `<tr class="rec failed"`), b[1])
		}
		require.Equal(t, all, total)
		require.Positive(t, checked)
	}
	_, body, _ := get(t, ts, "/timeline?module=Sealed&by=day")
	require.Contains(t, body, fmt.Sprintf("%d records, %d failed, per day", all, failed))
}

// TestServeReports checks that each report lists the command line's rows
// with a link to their records.
func TestServeReports(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	_, ts := newTestServer(t, dir, keyDir, "")
	for _, name := range []string{"logons", "failures", "changes", "sessions", "daily"} {
		r := auditlog(t, "report", name, dir, "--module", "Sealed", "--output", "json")
		require.Equal(t, 0, r.code, r.stderr)
		var want []map[string]string
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &want))
		code, body, _ := get(t, ts, "/reports?module=Sealed&report="+name)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, len(want), strings.Count(body, `">records</a>`), name)
	}
	_, body, _ := get(t, ts, "/reports?module=Sealed&report=changes")
	require.Contains(t, html.UnescapeString(body), "<td>+49 30 1234</td><td>+49 30 9876</td>")
}

func TestServeToken(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	const tok = "0123456789abcdef0123"
	_, ts := newTestServer(t, dir, keyDir, tok)
	noRedirect := *ts.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/", "/search", "/export.csv", "/static/style.css", "/?token=wrong", "/?token=" + tok[:len(tok)-1]} {
		resp, err := noRedirect.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
	}
	for _, c := range []*http.Cookie{{Name: tokenCookie, Value: "wrong"}, {Name: tokenCookie, Value: ""}} {
		req, _ := http.NewRequest("GET", ts.URL+"/", nil)
		req.AddCookie(c)
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	// The first visit sets the cookie and drops the token from the URL.
	resp, err := noRedirect.Get(ts.URL + "/search?module=Sealed&token=" + tok)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/search?module=Sealed", resp.Header.Get("Location"))
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
	req, _ := http.NewRequest("GET", ts.URL+"/search?module=Sealed", nil)
	req.AddCookie(cookie)
	resp, err = noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	req, _ = http.NewRequest("GET", ts.URL+"/export.jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestServeLoopbackHost checks that without a token only requests to a
// loopback name are answered (against DNS rebinding).
func TestServeLoopbackHost(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	s, _ := newTestServer(t, dir, keyDir, "")
	for host, want := range map[string]int{
		"127.0.0.1:8080": http.StatusOK, "localhost:8080": http.StatusOK, "[::1]:8080": http.StatusOK, "127.0.0.1": http.StatusOK,
		"evil.example:8080": http.StatusForbidden, "evil.example": http.StatusForbidden, "10.0.0.1:8080": http.StatusForbidden,
		"localhost.evil.example": http.StatusForbidden,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, host)
	}
}

func TestServeTokenChoice(t *testing.T) {
	tok, err := serveToken("", true)
	require.NoError(t, err)
	require.Empty(t, tok, "loopback needs no token")
	tok, err = serveToken("", false)
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{64}$`, tok)
	tok2, _ := serveToken("", false)
	require.NotEqual(t, tok, tok2)

	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("  s3cret-s3cret-s3cret\n"), 0o600))
	for _, loopback := range []bool{true, false} {
		tok, err = serveToken(file, loopback)
		require.NoError(t, err)
		require.Equal(t, "s3cret-s3cret-s3cret", tok)
	}
	for _, bad := range []string{"short", "two words of some length", ""} {
		require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
		_, err = serveToken(file, false)
		require.ErrorContains(t, err, "at least 16 characters")
	}
	_, err = serveToken(filepath.Join(t.TempDir(), "nosuch"), false)
	require.ErrorContains(t, err, "token file")
}

// TestServeCommand runs 'auditlog serve' as a process on an ephemeral
// loopback port: it prints the URL, serves the overview, and stops on
// SIGINT.
func TestServeCommand(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", dir, "--addr", "127.0.0.1:0", "--key-dir", keyDir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	u := strings.TrimSpace(line)
	require.Regexp(t, `^http://127\.0\.0\.1:[0-9]+/$`, u)
	resp, err := http.Get(u)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `<tr data-module="Tampered">`)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	require.NoError(t, cmd.Wait())
	require.Contains(t, stderr.String(), "loopback address only")

	r := auditlog(t, "serve", dir, "--key-dir", keyDir, "--key-file", "x")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "not both")
	r = auditlog(t, "serve", filepath.Join(dir, "nosuch"))
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "no such directory")
}

// TestServeReadOnly checks that serving every page changes nothing in the
// directory.
func TestServeReadOnly(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	before := dirState(t, dir)
	_, ts := newTestServer(t, dir, keyDir, "")
	for _, path := range []string{"/", "/timeline", "/search", "/search?page=3", "/reports?report=sessions", "/export.csv", "/export.jsonl",
		"/record?module=Sealed&file=Sealed.audit.log&line=1"} {
		code, _, _ := get(t, ts, path)
		require.Equal(t, http.StatusOK, code, path)
	}
	require.Equal(t, before, dirState(t, dir))
}

// dirState describes every file in dir: name, size, mode and time.
func dirState(t *testing.T, dir string) []string {
	t.Helper()
	var s []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		fi, err := d.Info()
		require.NoError(t, err)
		s = append(s, fmt.Sprintf("%s %d %v %v", path, fi.Size(), fi.Mode(), fi.ModTime().UnixNano()))
		return nil
	}))
	slices.Sort(s)
	return s
}

// FuzzServeFilterLinks checks that the links the viewer makes from a
// filter (the timeline's bars, the reports' rows, the rows' actor, client
// and session) select what the filter selects: parsing the link's query
// gives the same filter back, whatever the values hold.
func FuzzServeFilterLinks(f *testing.F) {
	for _, v := range []string{"alice", "!svc", `\!bang`, "a&b=c", "javascript:alert(1)", "<script>", "\u202eevil", "x,y", " spaced ", "%41"} {
		f.Add(v, "LOGON,!LOGOFF", "failure", "2026-11-25T09:00:00Z", "1d")
		f.Add(v, "!LOGON", "!success", "2026-11-25T10:00:00.5+01:00", "2026-11-26 12:00")
	}
	e := &env{now: func() time.Time { return base }}
	s := &server{e: e}
	f.Fuzz(func(t *testing.T, value, types, outcome, since, until string) {
		q := url.Values{"actor": {value}, "client": {value, "10.0.0.1"}, "session": {value}, "grep": {value},
			"type": {types}, "outcome": {outcome}, "since": {since}, "until": {until}}
		f1, err := s.parseFilter(q)
		if err != nil {
			return
		}
		link := filterQuery(filterArgs(f1))
		f2, err := s.parseFilter(link)
		require.NoError(t, err, link.Encode())
		// The same instants, written in UTC.
		require.True(t, f1.since.Equal(f2.since), link.Encode())
		require.True(t, f1.until.Equal(f2.until), link.Encode())
		f1.since, f1.until, f2.since, f2.until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		require.Equal(t, f1, f2, link.Encode())

		// A row's link narrows to the row's exact value.
		if strings.TrimSpace(value) != "" {
			c := filtersOf(q)
			c.Set("actor", valueArg(value))
			f3, err := s.parseFilter(c)
			require.NoError(t, err)
			require.Equal(t, []string{value}, f3.actor.is)
			require.Empty(t, f3.actor.not)
		}
	})
}

// flushRecorder records what had been written at each Flush.
type flushRecorder struct {
	*httptest.ResponseRecorder
	flushed []string
}

func (r *flushRecorder) Flush() {
	r.flushed = append(r.flushed, r.Body.String())
	r.ResponseRecorder.Flush()
}

// TestServeSearchStreams checks that a search sends the page's head
// before the scan, and rows as they are found, before the page's end.
func TestServeSearchStreams(t *testing.T) {
	dir, keyDir, _, _ := viewerDir(t)
	s, _ := newTestServer(t, dir, keyDir, "")
	rec := &flushRecorder{ResponseRecorder: httptest.NewRecorder()}
	req := httptest.NewRequest("GET", "/search?module=Sealed", nil)
	req.Host = "127.0.0.1:8080"
	s.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.GreaterOrEqual(t, len(rec.flushed), 2)
	require.Contains(t, rec.flushed[0], `<tbody>`)
	require.NotContains(t, rec.flushed[0], `<tr class="rec`, "the head goes out before the scan")
	require.Contains(t, rec.flushed[1], `<tr class="rec`)
	require.NotContains(t, rec.flushed[1], `id="summary"`, "rows go out before the end")
	require.Contains(t, rec.Body.String(), `id="summary"`)
}
