// Package browsertest drives 'auditlog serve' in a real headless Chromium
// through the DevTools protocol (github.com/chromedp/chromedp). It is a
// module of its own so that the core module keeps depending on the
// standard library only.
//
// The tests build the auditlog command, write audit files with the
// library, start 'auditlog serve' on an ephemeral loopback port and look at
// its pages as a browser renders them. Chromium is looked for at
// $AUDITLOG_CHROMIUM, else /usr/bin/chromium (Debian's package chromium);
// without it the tests are skipped. Screenshots of each page are written
// to $AUDITLOG_SCREENSHOTS when set, else to the test's temporary
// directory.
package browsertest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// binary is the auditlog command built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "auditlog-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "auditlog")
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/auditlog")
	cmd.Dir = filepath.Join("..", "..", "..") // the repository's root
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building auditlog:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Hostile values of the test records.
const (
	hostileScript  = "<script>alert(1)</script>"
	hostileAttr    = `"><img src=x onerror=alert(2)>`
	hostileURL     = "javascript:alert(3)"
	hostileBidi    = "invoice\u202egpj.exe"
	hostileFormula = "=HYPERLINK(\"http://evil.example\",\"x\")"
)

// base is the time of the first test record.
var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// clock starts at start and advances a millisecond a call, so that
// backup names are distinct and ordered.
func clock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// fixture is the directory the viewer shows.
type fixture struct {
	dir, keyDir  string
	tamperedFile string
	tamperedLine int
}

// writeFixture writes, with the library, module Sealed (sealed, records
// over two days), Tampered (sealed, one record changed afterwards) and
// Plain (not sealed, records with hostile values).
func writeFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{dir: t.TempDir(), keyDir: t.TempDir()}
	for _, module := range []string{"Sealed", "Tampered"} {
		live := filepath.Join(t.TempDir(), module+".key")
		require.NoError(t, audit.NewKey(live))
		data, err := os.ReadFile(live)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(fx.keyDir, module+".key"), data, 0o600))
		start := base
		n := 120
		if module == "Tampered" {
			start, n = base.Add(90*time.Minute), 30
		}
		var events []audit.Event
		for i := range n {
			e := audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprint("user", i%6), Client: fmt.Sprint("10.0.0.", i%4),
				Time: start.Add(time.Duration(i) * 23 * time.Minute)}
			if i%5 == 0 {
				e.Outcome, e.Reason = audit.Failed, "invalid password"
			}
			if i%20 == 7 {
				e = audit.Event{Type: audit.AccessChange, Outcome: audit.Succeeded, Actor: "admin", Subject: fmt.Sprint("user", i%6), Object: "role",
					OldValue: "agent", NewValue: "supervisor", Time: e.Time}
			}
			events = append(events, e)
		}
		logAll(t, audit.Config{Module: module, AuditLogPath: fx.dir, EventMask: audit.AllEvents, Now: clock(start),
			Integrity: true, IntegrityKeyFile: live, MaxSize: 4000}, events...)
	}
	files, err := audit.ListFiles(fx.dir, "Tampered")
	require.NoError(t, err)
	fx.tamperedFile, fx.tamperedLine = files[0].Path, 4
	data, err := os.ReadFile(fx.tamperedFile)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	lines[fx.tamperedLine-1] = strings.Replace(lines[fx.tamperedLine-1], "user", "usex", 1)
	require.NoError(t, os.WriteFile(fx.tamperedFile, []byte(strings.Join(lines, "")), 0o640))

	at := base.Add(3 * time.Hour)
	logAll(t, audit.Config{Module: "Plain", AuditLogPath: fx.dir, EventMask: audit.AllEvents, Formatter: "JSON", Now: clock(at)},
		audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: hostileScript, Client: hostileURL, Reason: hostileAttr, Time: at},
		audit.Event{Type: audit.UserChange, Outcome: audit.Succeeded, Actor: hostileAttr, Subject: hostileBidi, Object: hostileScript,
			OldValue: hostileFormula, NewValue: "+cmd|' /C calc'!A0", Reason: "@SUM(A1)", Session: "-2+3", Time: at.Add(time.Minute)},
	)
	return fx
}

func logAll(t *testing.T, cfg audit.Config, events ...audit.Event) {
	t.Helper()
	l, err := audit.New(cfg)
	require.NoError(t, err)
	for _, e := range events {
		require.NoError(t, l.Log(context.Background(), e))
	}
	require.NoError(t, l.Close())
}

// serve starts 'auditlog serve' over fx on an ephemeral loopback port and
// returns its URL; it is stopped at the end of the test.
func serve(t *testing.T, fx *fixture) string {
	t.Helper()
	cmd := exec.Command(binary, "serve", fx.dir, "--addr", "127.0.0.1:0", "--key-dir", fx.keyDir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	// Standard error goes to a file, which the process writes directly.
	errFile, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer errFile.Close()
	cmd.Stderr = errFile
	require.NoError(t, cmd.Start())
	stderr := func() string {
		b, _ := os.ReadFile(errFile.Name())
		return string(b)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("auditlog serve: %v\n%s", err, stderr())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, stderr())
	u := strings.TrimSpace(line)
	require.True(t, strings.HasPrefix(u, "http://127.0.0.1:"), u)
	return strings.TrimSuffix(u, "/")
}

// browser starts a headless Chromium for the test and returns its
// context and a counter of the JavaScript dialogs opened (alert, confirm,
// prompt), which each test expects to stay at zero.
func browser(t *testing.T) (context.Context, *atomic.Int32) {
	t.Helper()
	exe := os.Getenv("AUDITLOG_CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("no Chromium at %s (install Debian's chromium, or set AUDITLOG_CHROMIUM): %v", exe, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")
	dialogs := &atomic.Int32{}
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range opening {
			if err != nil {
				return
			}
			dialogs.Add(1)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return ctx, dialogs
}

// screenshot saves the page as name in the screenshot directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("AUDITLOG_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	t.Logf("screenshot %s", filepath.Join(dir, name))
}

// text returns the text of the first element that sel selects.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return s
}

// eval evaluates a JavaScript expression in the page (through the
// DevTools protocol: the page itself runs no script).
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// location returns the URL of the page.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return u
}

// do runs the actions and fails the test on an error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// waitOverview loads the overview until the background work is done.
func waitOverview(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(base+"/"))
	for range 100 {
		status := text(t, ctx, "#status")
		if !strings.Contains(status, "counting") && !strings.Contains(status, "verifying") {
			return
		}
		// The page reloads itself every two seconds while the work goes on.
		do(t, ctx, chromedp.Sleep(500*time.Millisecond), chromedp.Navigate(base+"/"))
	}
	t.Fatal("the overview is still counting or verifying")
}

func TestOverviewVerdicts(t *testing.T) {
	fx := writeFixture(t)
	base := serve(t, fx)
	ctx, dialogs := browser(t)
	waitOverview(t, ctx, base)
	verdicts := map[string]string{}
	for _, m := range []string{"Sealed", "Tampered", "Plain"} {
		verdicts[m] = text(t, ctx, `tr[data-module="`+m+`"] td.verdict`)
	}
	require.True(t, strings.HasPrefix(verdicts["Sealed"], "verified"), verdicts["Sealed"])
	require.True(t, strings.HasPrefix(verdicts["Tampered"], "TAMPERED"), verdicts["Tampered"])
	require.Contains(t, verdicts["Tampered"], fmt.Sprintf("%s:%d: modified", filepath.Base(fx.tamperedFile), fx.tamperedLine))
	require.True(t, strings.HasPrefix(verdicts["Plain"], "not sealed"), verdicts["Plain"])
	screenshot(t, ctx, "overview.png")
	require.Zero(t, dialogs.Load())
}

// rows returns the module and seq of each record row of the page.
func rows(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("tr.rec")).map(r => r.dataset.module + "/" + r.dataset.seq)`)
}

// queryRecords runs 'auditlog query' with flags and returns the module and
// seq of each record it prints.
func queryRecords(t *testing.T, dir string, flags ...string) []string {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"query", dir, "--output", "json"}, flags...)...).Output()
	require.NoError(t, err)
	var want []string
	for line := range strings.Lines(string(out)) {
		rec, err := audit.ParseRecord([]byte(strings.TrimSuffix(line, "\n")))
		require.NoError(t, err)
		want = append(want, fmt.Sprintf("%s/%d", rec.Module, rec.Seq))
	}
	return want
}

// TestSearchMatchesQuery fills in the search form as a user would and
// compares the rows with 'auditlog query'.
func TestSearchMatchesQuery(t *testing.T) {
	fx := writeFixture(t)
	base := serve(t, fx)
	ctx, dialogs := browser(t)
	do(t, ctx,
		chromedp.Navigate(base+"/search"),
		chromedp.SetValue(chromedp.CSS(`input[name="type"]`), "LOGON"),
		chromedp.SetValue(chromedp.CSS(`select[name="outcome"]`), "failure"),
		chromedp.Click(chromedp.CSS("#apply")),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
	)
	loc := location(t, ctx)
	require.Contains(t, loc, "type=LOGON")
	require.Contains(t, loc, "outcome=failure")
	want := queryRecords(t, fx.dir, "--type", "LOGON", "--outcome", "failure")
	require.NotEmpty(t, want)
	require.Less(t, len(want), 100, "one page")
	require.Equal(t, want, rows(t, ctx))
	require.Contains(t, text(t, ctx, "#summary"), "no more match")
	screenshot(t, ctx, "search.png")

	// A row opens its record.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`tr.rec td.time a`)),
		chromedp.WaitVisible(chromedp.CSS("dl.record")),
	)
	require.Regexp(t, `^user[0-9]$`, text(t, ctx, "#actor"))
	screenshot(t, ctx, "record.png")
	require.Zero(t, dialogs.Load())
}

// timelineBar is a bar of the timeline as the browser lays it out.
type timelineBar struct {
	ID     string
	OK     int
	Failed int
	Start  string
	X, Y   float64
}

// TestTimelineBarFilters clicks a bar of the timeline and checks that the
// search shows its records.
func TestTimelineBarFilters(t *testing.T) {
	fx := writeFixture(t)
	base := serve(t, fx)
	ctx, dialogs := browser(t)
	do(t, ctx, chromedp.Navigate(base+"/timeline?module=Sealed&by=hour"))
	screenshot(t, ctx, "timeline.png")
	// The first bar with failures that is lower than the highest: the top
	// of its column is the bar's own link, above its stack.
	bar := eval[timelineBar](t, ctx, `(() => {
		const bars = Array.from(document.querySelectorAll("a.bar"));
		const n = b => +b.dataset.ok + +b.dataset.failed;
		const top = Math.max(...bars.map(n));
		const b = bars.find(b => n(b) > 0 && n(b) < top && +b.dataset.failed > 0);
		const r = b.querySelector("rect.hit").getBoundingClientRect();
		return {ID: b.id, OK: +b.dataset.ok, Failed: +b.dataset.failed, Start: b.dataset.start, X: r.x + r.width / 2, Y: r.y + 2};
	})()`)
	require.NotEmpty(t, bar.ID)
	do(t, ctx,
		chromedp.MouseClickXY(bar.X, bar.Y),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
	)
	require.Contains(t, location(t, ctx), "/search?")
	start, err := time.Parse("2006-01-02 15:04:05.000000Z", bar.Start)
	require.NoError(t, err)
	want := queryRecords(t, fx.dir, "--module", "Sealed", "--since", start.Format(time.RFC3339), "--until", start.Add(time.Hour).Format(time.RFC3339))
	require.Len(t, want, bar.OK+bar.Failed)
	require.Equal(t, want, rows(t, ctx))
	screenshot(t, ctx, "timeline-bar.png")
	require.Zero(t, dialogs.Load())
}

// TestHostileRecordsAreText checks that records holding markup and
// scripts render as text: no dialog opens, no element of theirs is in the
// DOM, and the DOM holds their text.
func TestHostileRecordsAreText(t *testing.T) {
	fx := writeFixture(t)
	base := serve(t, fx)
	ctx, dialogs := browser(t)
	check := func(name string) {
		t.Helper()
		require.Zero(t, eval[int](t, ctx, `document.scripts.length`), name)
		require.Zero(t, eval[int](t, ctx, `document.images.length`), name)
		for _, h := range eval[[]string](t, ctx, `Array.from(document.querySelectorAll("a")).map(a => a.href)`) {
			require.True(t, strings.HasPrefix(h, base+"/"), "%s: a link out of the viewer: %s", name, h)
		}
		main := text(t, ctx, "main")
		require.Contains(t, main, hostileScript, name)
		require.Contains(t, main, hostileAttr, name)
		require.NotContains(t, main, "\u202e", name)
		screenshot(t, ctx, name+".png")
	}
	do(t, ctx, chromedp.Navigate(base+"/search?module=Plain"), chromedp.WaitVisible(chromedp.CSS("#summary")))
	check("hostile-search")
	results := text(t, ctx, "#results")
	require.Contains(t, results, hostileURL)
	require.Contains(t, results, `invoice\u202egpj.exe`)

	do(t, ctx,
		chromedp.Click(chromedp.CSS(`tr[data-seq="2"] td.time a`)),
		chromedp.WaitVisible(chromedp.CSS("dl.record")),
	)
	check("hostile-record")
	require.Equal(t, hostileFormula, text(t, ctx, "#old"))

	// Following the link that a hostile value makes stays in the viewer.
	do(t, ctx,
		chromedp.Navigate(base+"/search?module=Plain"),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
		chromedp.Click(chromedp.CSS(`tr[data-seq="1"] td:nth-child(10) a`)), // the client javascript:alert(3)
		chromedp.WaitVisible(chromedp.CSS("#summary")),
	)
	loc := location(t, ctx)
	require.True(t, strings.HasPrefix(loc, base+"/search?"), loc)
	require.Contains(t, loc, "client=javascript")
	require.Equal(t, []string{"Plain/1"}, rows(t, ctx))

	do(t, ctx, chromedp.Navigate(base+"/reports?report=changes&module=Plain"), chromedp.WaitVisible(chromedp.CSS("#report")))
	check("hostile-report")
	require.Zero(t, dialogs.Load(), "a dialog opened: a record's script ran")
}

// TestReportsPage checks that a report's row links to its records: the
// first row of the logons report, the most failures first, to its failed
// logons.
func TestReportsPage(t *testing.T) {
	fx := writeFixture(t)
	base := serve(t, fx)
	ctx, dialogs := browser(t)
	do(t, ctx, chromedp.Navigate(base+"/reports?report=logons"), chromedp.WaitVisible(chromedp.CSS("#report")))
	cells := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#report tbody tr:first-child td")).map(td => td.textContent)`)
	require.Len(t, cells, 7) // actor, client, failed, succeeded, first and last failure, the link
	screenshot(t, ctx, "reports.png")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#report tbody tr:first-child a`)),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
	)
	want := queryRecords(t, fx.dir, "--type", "LOGON", "--actor", cells[0], "--client", cells[1], "--outcome", "failure")
	require.Equal(t, cells[2], fmt.Sprint(len(want)))
	require.Equal(t, want, rows(t, ctx))
	require.Zero(t, dialogs.Load())
}
