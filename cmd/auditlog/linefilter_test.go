package main

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
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
	{Seq: 5, Module: "A", Event: audit.Event{Time: at(6), Type: audit.ChannelOpen, Outcome: audit.Succeeded, Client: "10.1.2.3:5060"}},
	{Seq: 6, Module: "A", Event: audit.Event{Time: at(7), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "alice", Client: "[2001:db8::1]:443"}},
}

// FuzzLineFilter checks that deciding on a line before parsing it never
// drops a record that parsing in full and matching selects, never accepts
// one that matching rejects, and reads the leading fields as the parser
// does, in each built-in format; and that the line of a matching record
// holds one of the needles that the reader searches for.
func FuzzLineFilter(f *testing.F) {
	for _, r := range seedRecords {
		for _, name := range []string{"BCM", "JSON", "CEF", "OCSF"} {
			fm, err := audit.LookupFormatter(name)
			require.NoError(f, err)
			line, err := fm.Append(nil, &r)
			require.NoError(f, err)
			f.Add(line, uint8(r.Event.Type), false, uint8(r.Event.Outcome)+1, int64(0), int64(0), r.Event.Actor, "", "", "")
			f.Add(line, uint8(audit.Logon), true, uint8(0), int64(3*60), int64(5*60), "", "30", r.Module, "")
			f.Add(line, uint8(0), false, uint8(1), int64(-1), int64(4*60+1), "!mallory", "日本", "", "")
			f.Add(line, uint8(0), false, uint8(0), int64(0), int64(0), "", "", "", r.Event.Client)
			f.Add(line, uint8(0), false, uint8(0), int64(0), int64(0), "", "3:5060", "", "")
			f.Add(line, uint8(0), false, uint8(0), int64(0), int64(0), "", "[2001:db8::1]", "", "")
		}
	}
	f.Add([]byte("2026-11-25T09:02:00.000000Z AgentServer LOGON FAILURE seq=1 actor=\"mallory\""), uint8(1), false, uint8(2), int64(0), int64(0), "mallory", "", "", "")
	f.Add([]byte(`{"time":"2026-11-25T09:02:00.000000Z","seq":1,"module":"A","type":"LOGON","outcome":"FAILURE","actor":"\u006dallory"}`), uint8(1), false, uint8(2), int64(0), int64(0), "mallory", "", "", "")
	f.Add([]byte(`{ "time":"2026-11-25T09:02:00Z","seq":1,"module":"A","type":"LOGON","outcome":"FAILURE"}`), uint8(1), false, uint8(2), int64(60), int64(0), "", "", "", "")
	f.Fuzz(func(t *testing.T, line []byte, typ uint8, notType bool, outcome uint8, since, until int64, actor, grep, module, client string) {
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
		if client != "" {
			fl.client.set(client)
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
			// The reader may pass over a line without a needle (of BCM
			// and JSON: it reads CEF and OCSF files line by line).
			if n := newNeedles(fl); n != nil && formatOf(line) <= formatJSON {
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

// skipRead reads input through an audit.LineReader whose skip function is
// a skipper of n, as a module's reader does, and calls each with every line
// returned.
func skipRead(t *testing.T, input string, n *needles, each func(ln audit.Line)) {
	t.Helper()
	r := audit.NewLineReader(strings.NewReader(input), "input")
	k := &skipper{needles: n}
	r.SetSkip(k.skip)
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		if k.off {
			r.SetSkip(nil)
		}
		each(ln)
	}
}

// With needles, a skipper has every line returned that holds one, with its
// right number, and every line from the first JSON line on (and from the
// start of the buffer that holds it); it passes over the others, across
// buffer boundaries.
func TestSkipper(t *testing.T) {
	bcm := [][]byte{[]byte("LOGON FAILURE "), []byte("DATA_READ FAILURE ")}
	var b strings.Builder
	var lines []string
	jsonFrom := 30000
	for i := range 40000 {
		var line string
		switch {
		case i == jsonFrom:
			line = `{"time":"2026-11-25T09:00:00.000000Z","seq":1,"module":"M","type":"LOGON","outcome":"SUCCESS"}`
		case i%97 == 0:
			line = "2026-11-25T09:00:00.000000Z M LOGON FAILURE seq=" + strconv.Itoa(i)
		case i%1013 == 0:
			line = "2026-11-25T09:00:00.000000Z M DATA_READ FAILURE seq=" + strconv.Itoa(i) + " " + strings.Repeat("x", 5000)
		case i%501 == 0:
			line = ""
		default:
			line = "2026-11-25T09:00:00.000000Z M LOGON SUCCESS seq=" + strconv.Itoa(i) + " actor=user-" + strconv.Itoa(i)
		}
		lines = append(lines, line)
		b.WriteString(line + "\n")
	}
	b.WriteString("2026-11-25T09:00:00.000000Z M LOGON FAILURE seq=cut")
	lines = append(lines, "2026-11-25T09:00:00.000000Z M LOGON FAILURE seq=cut")

	var got []int
	skipRead(t, b.String(), &needles{bcm: bcm}, func(ln audit.Line) {
		no := ln.Number
		require.Equal(t, lines[no-1], string(ln.Text), "line %d", no)
		require.Equal(t, no <= len(lines)-1, ln.Complete)
		got = append(got, no)
	})
	var want []int
	for i, line := range lines {
		if i >= jsonFrom || bytes.Contains([]byte(line), bcm[0]) || bytes.Contains([]byte(line), bcm[1]) {
			want = append(want, i+1)
		}
	}
	returned := map[int]bool{}
	for _, n := range got {
		returned[n] = true
	}
	for _, n := range want {
		require.True(t, returned[n], "line %d was passed over", n)
	}
	// Before the buffer that holds the JSON line, only the needed lines.
	before := func(ns []int) []int {
		var r []int
		for _, n := range ns {
			if n < jsonFrom-readBuffer/50 {
				r = append(r, n)
			}
		}
		return r
	}
	require.Equal(t, before(want), before(got))
	require.Less(t, len(before(got)), jsonFrom/50)
}

// In a JSON file, lines holding a needle or a backslash are returned, and
// a line of another format (BCM, OCSF, CEF) stops the passing over.
func TestSkipperJSON(t *testing.T) {
	n := newNeedles(&filter{typeIn: map[audit.EventType]bool{audit.Logon: true}})
	for name, intruder := range map[string]string{
		"BCM":  "2026-11-25T09:00:00.000000Z M DATA_READ SUCCESS seq=1",
		"OCSF": `{"class_uid":3002,"class_name":"Authentication","activity_id":1,"status":"Failure"}`,
		"CEF":  "CEF:0|auditkit|audit|1|LOGON|Logon failed|7|outcome=failure",
	} {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			var lines []string
			otherAt := 9000
			for i := range 10000 {
				line := `{"time":"2026-11-25T09:00:00.000000Z","seq":` + strconv.Itoa(i) + `,"module":"M","type":"DATA_READ","outcome":"SUCCESS"}`
				switch {
				case i == otherAt:
					line = intruder
				case i%89 == 0:
					line = `{ "outcome" : "FAILURE", "type" : "LOGON", "time":"2026-11-25T09:00:00Z","seq":1,"module":"M"}`
				case i%113 == 0:
					line = `{"time":"2026-11-25T09:00:00.000000Z","seq":1,"module":"M","type":"\u004cOGON","outcome":"SUCCESS"}`
				}
				lines = append(lines, line)
				b.WriteString(line + "\n")
			}
			returned := map[int]bool{}
			skipRead(t, b.String(), n, func(ln audit.Line) {
				require.Equal(t, lines[ln.Number-1], string(ln.Text))
				returned[ln.Number] = true
			})
			count := 0
			for i, line := range lines {
				if i >= otherAt || strings.Contains(line, `LOGON"`) || strings.Contains(line, `\`) {
					require.True(t, returned[i+1], "line %d was passed over", i+1)
				}
				if i < otherAt-readBuffer/100 && returned[i+1] {
					count++
				}
			}
			require.Less(t, count, otherAt/40, "lines before the %s line were passed over", name)
		})
	}
}

// readBuffer is the size of an audit.LineReader's buffer.
const readBuffer = 256 << 10

// When most lines hold a needle, the skipper stops: searching would cost
// more than it saves.
func TestSkipperMostLinesMatch(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		typ := "LOGON"
		if i%3 == 0 {
			typ = "LOGOFF"
		}
		b.WriteString("2026-11-25T09:00:00.000000Z M " + typ + " SUCCESS seq=" + strconv.Itoa(i+1) + "\n")
	}
	k := &skipper{needles: &needles{bcm: [][]byte{[]byte("LOGON SUCCESS ")}}}
	r := audit.NewLineReader(strings.NewReader(b.String()), "input")
	r.SetSkip(k.skip)
	for range 255 {
		_, err := r.Next()
		require.NoError(t, err)
		require.False(t, k.off)
	}
	_, err := r.Next()
	require.NoError(t, err)
	require.True(t, k.off)
}
