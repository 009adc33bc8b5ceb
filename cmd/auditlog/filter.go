package main

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// filter selects records. The zero filter selects every record.
type filter struct {
	since, until time.Time // since <= time < until, where set
	types        map[audit.EventType]bool
	outcome      *audit.Outcome
	actor        *string
	subject      *string
	client       *string
	module       string // also restricts the files read
}

// match reports whether r passes every filter.
func (f *filter) match(r *audit.Record) bool {
	t := r.Event.Time
	switch {
	case !f.since.IsZero() && t.Before(f.since),
		!f.until.IsZero() && !t.Before(f.until),
		f.types != nil && !f.types[r.Event.Type],
		f.outcome != nil && r.Event.Outcome != *f.outcome,
		f.actor != nil && r.Event.Actor != *f.actor,
		f.subject != nil && r.Event.Subject != *f.subject,
		f.client != nil && r.Event.Client != *f.client,
		f.module != "" && r.Module != f.module:
		return false
	}
	return true
}

// check reports an inconsistency between the filters.
func (f *filter) check() error {
	if !f.since.IsZero() && !f.until.IsZero() && !f.since.Before(f.until) {
		return fmt.Errorf("--since %s is not before --until %s",
			f.since.UTC().Format(time.RFC3339Nano), f.until.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// timeFlagHelp describes the values of --since and --until.
const timeFlagHelp = "an RFC 3339 time (2026-11-25T09:00:00Z), a date (2026-11-25, midnight UTC) or a duration before now (90m, 24h, 7d, 1d12h)"

// definePeriod defines --since, --until and --module on fs.
func definePeriod(e *env, fs *flag.FlagSet, f *filter) {
	fs.Func("since", "only records at or after `time`: "+timeFlagHelp, func(s string) (err error) {
		f.since, err = parseTimeArg(s, e.now())
		return err
	})
	fs.Func("until", "only records before `time`: "+timeFlagHelp, func(s string) (err error) {
		f.until, err = parseTimeArg(s, e.now())
		return err
	})
	defineModule(fs, &f.module)
}

// defineModule defines --module on fs.
func defineModule(fs *flag.FlagSet, module *string) {
	fs.Func("module", "only the `module` of this exact name", func(s string) error {
		if !moduleRE.MatchString(s) {
			return errors.New("want a module name of 1 to 64 ASCII letters, digits, '_' or '-'")
		}
		*module = s
		return nil
	})
}

var moduleRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// defineFilters defines every filter flag of query on fs.
func defineFilters(e *env, fs *flag.FlagSet, f *filter) {
	definePeriod(e, fs, f)
	fs.Func("type", "only events of these `types`, comma-separated, such as LOGON,DATA_READ (any case)", func(s string) error {
		if f.types == nil {
			f.types = map[audit.EventType]bool{}
		}
		for name := range strings.SplitSeq(s, ",") {
			t, err := audit.ParseEventType(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			f.types[t] = true
		}
		return nil
	})
	fs.Func("outcome", "only events of this `outcome`: success or failure", func(s string) error {
		o, err := audit.ParseOutcome(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		f.outcome = &o
		return nil
	})
	exact := func(name, what string, p **string) {
		fs.Func(name, "only events whose "+name+" is exactly `"+what+"`", func(s string) error {
			*p = &s
			return nil
		})
	}
	exact("actor", "name", &f.actor)
	exact("subject", "name", &f.subject)
	exact("client", "address", &f.client)
}

// parseTimeArg parses the value of --since or --until: an RFC 3339 time, a
// date (midnight UTC), or a duration before now, in Go's syntax (90m, 24h,
// 1h30m) with whole days allowed in front (7d, 1d12h).
func parseTimeArg(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want %s", timeFlagHelp)
	}
	return now.Add(-d), nil
}

// parseAgo parses a non-negative duration with optional whole days in
// front: "7d", "1d12h", "90m".
func parseAgo(s string) (time.Duration, error) {
	var d time.Duration
	if days, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil || n > 100*366 {
			return 0, errors.New("bad days")
		}
		d = time.Duration(n) * 24 * time.Hour
		s = rest
		if s == "" {
			return d, nil
		}
	}
	d2, err := time.ParseDuration(s)
	if err != nil || d2 < 0 {
		return 0, errors.New("bad duration")
	}
	return d + d2, nil
}
