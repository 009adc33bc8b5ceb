package audittest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/auditkit/audit"
)

// Module is the module name of a [Logger] unless [WithModule] sets another.
const Module = "Test"

// An Option changes the configuration of a [Logger] made by [New].
type Option interface {
	apply(*audit.Config)
}

type optionFunc func(*audit.Config)

func (f optionFunc) apply(c *audit.Config) { f(c) }

// WithMask sets the event mask ([audit.Config.EventMask]); the default is
// [audit.DefaultMask], as for a real Logger.
func WithMask(m audit.Mask) Option {
	return optionFunc(func(c *audit.Config) { c.EventMask = m })
}

// WithFormat sets the format by name ([audit.Config.Formatter]), such as
// [audit.FormatJSON] or [audit.FormatCEF]; the default is BCM.
func WithFormat(name string) Option {
	return optionFunc(func(c *audit.Config) { c.Formatter = name })
}

// WithModule sets the module name; the default is [Module].
func WithModule(name string) Option {
	return optionFunc(func(c *audit.Config) { c.Module = name })
}

// WithClock sets the clock that stamps events without a time; the default
// is [time.Now].
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *audit.Config) { c.Now = now })
}

// WithConfig lets f change any other field of the configuration. Output,
// which the Logger needs, is set after f runs.
func WithConfig(f func(*audit.Config)) Option {
	return optionFunc(f)
}

// Logger is an [audit.Logger] that keeps its records in memory. Pass the
// embedded *audit.Logger to the code under test, and inspect what it
// logged with [Logger.Records] or [Logger.Lines]. It is safe for concurrent
// use, like the audit.Logger.
type Logger struct {
	*audit.Logger
	t      testing.TB
	out    *memory
	format string                                  // the format's name, for errors
	parse  func(line []byte) (audit.Record, error) // nil for a format that cannot be read back
}

// memory is the Logger's output: it keeps every batch of lines the
// audit.Logger writes.
type memory struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	syncErr error // returned by Sync, for the package's own tests
}

func (m *memory) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.Write(p)
}

func (m *memory) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.syncErr
}

// New returns a Logger for the test t, configured by opts, that writes to
// memory through a real [audit.Logger]. It fails the test at once if
// [audit.New] refuses the configuration. When the test ends the Logger is
// closed (closing it earlier is allowed), and an error of Close, or a line
// that does not read back, fails the test. Lines are read back with the
// format's parser: the Parse method of its [audit.Formatter], which every
// built-in format and any registered one that implements [audit.Parser]
// has; the lines of a format without a parser are not read back at the
// end of the test.
func New(t testing.TB, opts ...Option) *Logger {
	t.Helper()
	cfg := audit.Config{Module: Module}
	for _, o := range opts {
		o.apply(&cfg)
	}
	out := &memory{}
	cfg.Output = out
	al, err := audit.New(cfg)
	if err != nil {
		t.Fatalf("audittest: %v", err)
		return nil
	}
	l := &Logger{Logger: al, t: t, out: out, format: cfg.Formatter}
	if f, err := audit.LookupFormatter(cfg.Formatter); err == nil { // New found it
		if p, ok := f.(audit.Parser); ok {
			l.parse = p.Parse
		}
	}
	t.Cleanup(func() {
		if err := al.Close(); err != nil {
			t.Errorf("audittest: close: %v", err)
		}
		if l.parse != nil {
			l.records() // reports a line that does not read back
		}
	})
	return l
}

// Lines returns the lines written so far, without their newlines.
func (l *Logger) Lines() []string {
	l.out.mu.Lock()
	defer l.out.mu.Unlock()
	var lines []string
	for line := range bytes.Lines(l.out.buf.Bytes()) {
		lines = append(lines, string(bytes.TrimSuffix(line, []byte("\n"))))
	}
	return lines
}

// Records returns the records written so far, in order, as the format's
// parser reads them back (see [New]). A line that does not read back fails
// the test and is left out; so does a format without a parser, once.
func (l *Logger) Records() Records {
	l.t.Helper()
	return l.records()
}

func (l *Logger) records() Records {
	l.t.Helper()
	if l.parse == nil {
		l.t.Errorf("audittest: format %q cannot be read back: its Formatter does not implement audit.Parser (use Lines)", l.format)
		return nil
	}
	var rs Records
	for i, line := range l.Lines() {
		r, err := l.parse([]byte(line))
		if err != nil {
			l.t.Errorf("audittest: line %d does not read back: %v", i+1, err)
			continue
		}
		rs = append(rs, r)
	}
	return rs
}

// Len returns the number of lines written so far.
func (l *Logger) Len() int { return len(l.Lines()) }

// Records is a list of records, with filters for assertions. Each filter
// returns the records that match, in order.
type Records []audit.Record

// Filter returns the records for which keep returns true.
func (rs Records) Filter(keep func(r audit.Record) bool) Records {
	var out Records
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Type returns the records of event type t.
func (rs Records) Type(t audit.EventType) Records {
	return rs.Filter(func(r audit.Record) bool { return r.Event.Type == t })
}

// Outcome returns the records with outcome o.
func (rs Records) Outcome(o audit.Outcome) Records {
	return rs.Filter(func(r audit.Record) bool { return r.Event.Outcome == o })
}

// Actor returns the records whose actor is actor.
func (rs Records) Actor(actor string) Records {
	return rs.Filter(func(r audit.Record) bool { return r.Event.Actor == actor })
}

// Subject returns the records whose subject is subject.
func (rs Records) Subject(subject string) Records {
	return rs.Filter(func(r audit.Record) bool { return r.Event.Subject == subject })
}

// Events returns the events of the records.
func (rs Records) Events() []audit.Event {
	es := make([]audit.Event, len(rs))
	for i := range rs {
		es[i] = rs[i].Event
	}
	return es
}
