package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// seedRecords are records whose lines seed FuzzLineFilter, in both
// formats.
var seedRecords = []audit.Record{
	{Seq: 1, Module: "AgentServer", Event: audit.Event{Time: at(2), Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "bad password"}},
	{Seq: 2, Module: "WebServer", Event: audit.Event{Outcome: audit.Succeeded, Time: at(3).Add(123456 * time.Microsecond), Type: audit.UserChange, Actor: "admin", Subject: "bob", Object: "phone", OldValue: "+49 30 1", NewValue: "=1+2"}},
	{Seq: 3, Module: "A", Event: audit.Event{Outcome: audit.Succeeded, Time: at(4), Type: audit.DataRead, Actor: `quo"te`, Subject: "back\\slash", Session: "S-1"}},
	{Seq: 4, Module: "CEM", Event: audit.Event{Time: at(5), Type: audit.ChannelReject, Outcome: audit.Failed, Client: "203.0.113.9", Reason: "tls\thandshake\x1b[31m 日本 🎉"}},
}

// FuzzLineFilter checks that deciding on a line before parsing it never
// drops a record that parsing in full and matching selects, never accepts
// one that matching rejects, and reads the leading fields as the parser
// does; and that the line of a matching record holds one of the needles
// that the reader searches for.
func FuzzLineFilter(f *testing.F) {
	for _, r := range seedRecords {
		for _, name := range []string{"BCM", "JSON"} {
			fm, err := audit.LookupFormatter(name)
			require.NoError(f, err)
			line, err := fm.Append(nil, &r)
			require.NoError(f, err)
			f.Add(line, uint8(r.Event.Type), false, uint8(r.Event.Outcome)+1, int64(0), int64(0), r.Event.Actor, "", "")
			f.Add(line, uint8(audit.Logon), true, uint8(0), int64(3*60), int64(5*60), "", "30", r.Module)
			f.Add(line, uint8(0), false, uint8(1), int64(-1), int64(4*60+1), "!mallory", "日本", "")
		}
	}
	f.Add([]byte("2026-11-25T09:02:00.000000Z AgentServer LOGON FAILURE seq=1 actor=\"mallory\""), uint8(1), false, uint8(2), int64(0), int64(0), "mallory", "", "")
	f.Add([]byte(`{"time":"2026-11-25T09:02:00.000000Z","seq":1,"module":"A","type":"LOGON","outcome":"FAILURE","actor":"\u006dallory"}`), uint8(1), false, uint8(2), int64(0), int64(0), "mallory", "", "")
	f.Add([]byte(`{ "time":"2026-11-25T09:02:00Z","seq":1,"module":"A","type":"LOGON","outcome":"FAILURE"}`), uint8(1), false, uint8(2), int64(60), int64(0), "", "", "")
	f.Fuzz(func(t *testing.T, line []byte, typ uint8, notType bool, outcome uint8, since, until int64, actor, grep, module string) {
		fl := &filter{module: module}
		if typ != 0 {
			m := map[audit.EventType]bool{audit.EventType(typ): true}
			if notType {
				fl.typeOut = m
			} else {
				fl.typeIn = m
			}
		}
		if outcome%3 != 0 {
			o := audit.Outcome(outcome%3 - 1)
			fl.outcome = &o
		}
		// Bounds in seconds, and with a sub-microsecond part, around base.
		if since != 0 {
			fl.since = base.Add(time.Duration(since)*time.Second + 500)
		}
		if until != 0 {
			fl.until = base.Add(time.Duration(until) * time.Second)
		}
		if actor != "" {
			fl.actor.set(actor)
		}
		if grep != "" {
			fl.grep = []string{grep}
		}
		lf := fl.compile()
		var l lead
		hasLead := readLead(line, &l)
		v := lf.decide(line, &l, hasLead)
		rec, err := audit.ParseRecord(line)
		if err != nil {
			return // the scan reports it, unless the filters rule it out first
		}
		if hasLead {
			require.Equal(t, rec.Event.Time.Format("2006-01-02T15:04:05.000000Z"), string(l.time))
			tm, ok := parseCanonicalTime(l.time)
			require.True(t, ok)
			require.True(t, tm.Equal(rec.Event.Time))
			require.Equal(t, rec.Module, string(l.module))
			require.Equal(t, rec.Event.Type, l.typ)
			require.Equal(t, rec.Event.Outcome, l.outcome)
			require.Equal(t, l.json, line[0] == '{')
		}
		if fl.match(&rec) {
			require.NotEqual(t, reject, v, "a matching record was rejected")
			// The reader may pass over a line without a needle.
			if n := newNeedles(fl); n != nil {
				set := n.bcm
				if line[0] == '{' {
					set = n.json
				}
				require.True(t, containsAny(line, set), "a matching record holds no needle of %q", set)
			}
		} else {
			require.NotEqual(t, accept, v, "a record that does not match was accepted")
		}
	})
}

func TestParseCanonicalTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-25T09:14:40.123456Z", time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC), true},
		{"0000-01-01T00:00:00.000000Z", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024-02-29T23:59:59.999999Z", time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC), true},
		{"2026-02-29T00:00:00.000000Z", time.Time{}, false},
		{"2026-13-01T00:00:00.000000Z", time.Time{}, false},
		{"2026-11-25T24:00:00.000000Z", time.Time{}, false},
		{"2026-11-25T09:60:00.000000Z", time.Time{}, false},
		{"2026-11-25T09:00:60.000000Z", time.Time{}, false},
	} {
		require.True(t, canonicalTimeShape([]byte(tc.in)), tc.in)
		got, ok := parseCanonicalTime([]byte(tc.in))
		require.Equal(t, tc.ok, ok, tc.in)
		require.True(t, got.Equal(tc.want), tc.in)
	}
	for _, s := range []string{"2026-11-25T09:14:40.12345Z", "2026-11-25T09:14:40.123456+01:00", "2026-11-25 09:14:40.123456Z", "2026-1a-25T09:14:40.123456Z"} {
		require.False(t, canonicalTimeShape([]byte(s)), s)
	}
}

// validCanonicalTime agrees with parseCanonicalTime on every day of a
// leap and a common year, and on times out of range.
func TestValidCanonicalTime(t *testing.T) {
	for _, year := range []int{1900, 2000, 2024, 2026} {
		for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
			b := []byte(d.Format("2006-01-02T15:04:05.000000Z"))
			require.True(t, validCanonicalTime(b), "%s", b)
		}
		for _, s := range []string{"-02-29", "-02-30", "-04-31", "-13-01", "-00-10", "-01-00", "-12-32"} {
			b := []byte(strconv.Itoa(year) + s + "T00:00:00.000000Z")
			_, ok := parseCanonicalTime(b)
			require.Equal(t, ok, validCanonicalTime(b), "%s", b)
		}
	}
}
