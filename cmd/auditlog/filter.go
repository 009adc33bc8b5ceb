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
	// typeIn, when not nil, are the only types selected; typeOut are
	// never selected.
	typeIn, typeOut map[audit.EventType]bool
	outcome         *audit.Outcome
	actor           valueFilter
	subject         valueFilter
	object          valueFilter
	client          valueFilter
	session         valueFilter
	grep            []string // each must occur in a value of the record
	module          string   // also restricts the files read
	// strict has every line parsed in full, not only as far as the
	// filters need (see lineFilter).
	strict bool
}

// valueFilter selects the records whose field is one of is, when is is
// not empty, and none of not.
type valueFilter struct {
	is, not []string
}

// set adds a value of a flag: "!v" excludes v, "\!v" selects "!v" and
// "\\v" selects "\v" (see valueArg), and any other value selects itself.
func (v *valueFilter) set(s string) {
	switch {
	case strings.HasPrefix(s, `\!`), strings.HasPrefix(s, `\\`):
		v.is = append(v.is, s[1:])
	case strings.HasPrefix(s, "!"):
		v.not = append(v.not, s[1:])
	default:
		v.is = append(v.is, s)
	}
}

func (v *valueFilter) match(s string) bool {
	if len(v.is) > 0 && !contains(v.is, s) {
		return false
	}
	return !contains(v.not, s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// match reports whether r passes every filter.
func (f *filter) match(r *audit.Record) bool {
	e := &r.Event
	switch {
	case !f.since.IsZero() && e.Time.Before(f.since),
		!f.until.IsZero() && !e.Time.Before(f.until),
		!f.matchType(e.Type),
		f.outcome != nil && e.Outcome != *f.outcome,
		!f.actor.match(e.Actor),
		!f.subject.match(e.Subject),
		!f.object.match(e.Object),
		!f.client.match(e.Client),
		!f.session.match(e.Session),
		f.module != "" && r.Module != f.module:
		return false
	}
	for _, g := range f.grep {
		if !recordContains(r, g) {
			return false
		}
	}
	return true
}

func (f *filter) matchType(t audit.EventType) bool {
	return (f.typeIn == nil || f.typeIn[t]) && !f.typeOut[t]
}

// recordContains reports whether s occurs in a value of r: its module, a
// standard field or an extra field.
func recordContains(r *audit.Record, s string) bool {
	e := &r.Event
	for _, v := range [...]string{r.Module, e.Actor, e.Subject, e.Object, e.OldValue, e.NewValue, e.Client, e.Session, e.Reason} {
		if strings.Contains(v, s) {
			return true
		}
	}
	for i := range e.NumFields() {
		if strings.Contains(e.Field(i).Value, s) {
			return true
		}
	}
	return false
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
const timeFlagHelp = "a time such as 2026-11-25T09:00:00Z or 2026-11-25T10:00+01:00, " +
	"a local date or time (2026-11-25, 2026-11-25T09:00, 2026-11-25 09:00:30), " +
	"today, yesterday, this-week (since Monday), " +
	"or a duration before now (90m, 12h, 3d, 1w, 1d12h)"

// definePeriod defines --since, --until and --module on fs.
func definePeriod(e *env, fs *flag.FlagSet, f *filter) {
	fs.Func("since", "only records at or after `time`: "+timeFlagHelp, func(s string) (err error) {
		f.since, err = parseTimeArg(s, e.now())
		return err
	})
	fs.Func("until", "only records before `time` (same forms as --since)", func(s string) (err error) {
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
	fs.Func("type", "only events of these `types`, comma-separated, such as LOGON,DATA_READ (any case); !T leaves T out", func(s string) error {
		for name := range strings.SplitSeq(s, ",") {
			name = strings.TrimSpace(name)
			not := strings.HasPrefix(name, "!")
			t, err := parseTypeArg(strings.TrimPrefix(name, "!"))
			if err != nil {
				return err
			}
			if not {
				if f.typeOut == nil {
					f.typeOut = map[audit.EventType]bool{}
				}
				f.typeOut[t] = true
				continue
			}
			if f.typeIn == nil {
				f.typeIn = map[audit.EventType]bool{}
			}
			f.typeIn[t] = true
		}
		return nil
	})
	fs.Func("outcome", "only events of this `outcome`: success (or succeeded, ok) or failure (or failed, fail); !O for the other", func(s string) error {
		s = strings.TrimSpace(s)
		not := strings.HasPrefix(s, "!")
		o, err := parseOutcomeArg(strings.TrimPrefix(s, "!"))
		if err != nil {
			return err
		}
		if not {
			o = audit.Failed + audit.Succeeded - o // the other one
		}
		f.outcome = &o
		return nil
	})
	value := func(name, what string, v *valueFilter) {
		fs.Func(name, "only events whose "+name+" is exactly `"+what+"`; repeat for any of several; !V leaves V out", func(s string) error {
			v.set(s)
			return nil
		})
	}
	value("actor", "name", &f.actor)
	value("subject", "name", &f.subject)
	value("object", "name", &f.object)
	value("client", "address", &f.client)
	value("session", "id", &f.session)
	fs.Func("grep", "only events with `text` in a value (module, actor, subject, object, old, new, client, session, reason or an extra field), case-sensitive; repeat to require each", func(s string) error {
		if s == "" {
			return errors.New("want a non-empty text")
		}
		f.grep = append(f.grep, s)
		return nil
	})
}

// parseTypeArg parses an event type name in any case, and lists the valid
// names when it is not one.
func parseTypeArg(s string) (audit.EventType, error) {
	t, err := audit.ParseEventType(s)
	if err == nil {
		return t, nil
	}
	return 0, fmt.Errorf("unknown event type %q; want one of %s", s, strings.Join(typeNames[1:], ", "))
}

// parseOutcomeArg parses an outcome as people write it.
func parseOutcomeArg(s string) (audit.Outcome, error) {
	switch strings.ToLower(s) {
	case "success", "succeeded", "successful", "ok":
		return audit.Succeeded, nil
	case "failure", "failed", "fail", "failures":
		return audit.Failed, nil
	}
	return 0, fmt.Errorf("unknown outcome %q; want success or failure", s)
}

// Layouts of a local date and time, without a zone.
var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	time.DateOnly,
}

// parseTimeArg parses the value of --since or --until (see timeFlagHelp).
// A time without a zone is in the location of now.
func parseTimeArg(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch strings.ToLower(s) {
	case "today":
		return midnight, nil
	case "yesterday":
		return midnight.AddDate(0, 0, -1), nil
	case "this-week":
		return midnight.AddDate(0, 0, -(int(now.Weekday())+6)%7), nil
	case "now":
		return now, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want %s", timeFlagHelp)
	}
	return now.Add(-d), nil
}

// parseAgo parses a non-negative duration with optional whole weeks and
// days in front: "1w", "3d", "1d12h", "90m".
func parseAgo(s string) (time.Duration, error) {
	var d time.Duration
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}} {
		n, rest, ok := strings.Cut(s, unit.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(n, 10, 16)
		if err != nil || v > 100*366 {
			return 0, errors.New("bad " + unit.suffix)
		}
		d += time.Duration(v) * unit.d
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
