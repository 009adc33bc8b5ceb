package audit

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// addRoundTripSeeds seeds a round trip fuzz target with the conformance
// records.
func addRoundTripSeeds(f *testing.F) {
	for _, c := range conformanceCases() {
		r := &c.rec
		e := &r.Event
		var key, value string
		if e.NumFields() > 0 {
			key, value = e.Field(0).Key, e.Field(0).Value
		}
		f.Add(r.Module, e.Actor, e.Subject, e.Object, e.OldValue, e.NewValue, e.Client, e.Session, e.Reason,
			key, value, r.MAC, r.Seq, e.Time.UnixMicro(), uint8(e.Type), uint8(e.Outcome))
	}
	// Invalid events.
	f.Add("m", "a", "", "", "", "", "", "", "", "", "", "", uint64(1), int64(0), uint8(0), uint8(0))
	f.Add("m", "a", "", "", "", "", "", "", "", "", "", "", uint64(1), int64(0), uint8(1), uint8(2))
	f.Add("m", "a", "", "", "", "", "", "", "", "actor", "x", "", uint64(1), int64(0), uint8(1), uint8(0))
	f.Add("m", "a", "", "", "", "", "", "", "", "a b", "x", "", uint64(1), int64(0), uint8(1), uint8(0))
	f.Add("m", "a", "", "", "", "", "", "", "", "", "", "", uint64(1), int64(1<<62), uint8(1), uint8(0))
}

// fuzzRoundTrip builds a record from fuzz arguments and checks that f writes
// it as one line that parse reads back exactly, or refuses it if it is not
// a valid record. A valid record that a Logger never writes (seq 0, say) is
// written, and parse refuses its line.
func fuzzRoundTrip(t *testing.T, f Formatter, parse func([]byte) (Record, error),
	module, actor, subject, object, oldValue, newValue, client, session, reason, key, value, mac string,
	seq uint64, micro int64, typ, outcome uint8) {
	r := Record{Seq: seq, Module: module, MAC: mac, Event: Event{
		Time: time.UnixMicro(micro).UTC(), Type: EventType(typ), Outcome: Outcome(outcome),
		Actor: actor, Subject: subject, Object: object, OldValue: oldValue, NewValue: newValue,
		Client: client, Session: session, Reason: reason,
	}}
	valid := r.Event.Type.Valid() && outcome <= uint8(Failed)
	if key != "" {
		r.Event.AddField(key, value)
		valid = valid && checkFieldKey(key) == nil
	}
	if y := r.Event.Time.Year(); y < 0 || y > 9999 {
		valid = false
	}
	line, err := f.Append([]byte("x"), &r)
	if !valid {
		require.ErrorIs(t, err, ErrInvalidEvent)
		require.Equal(t, "x", string(line))
		return
	}
	require.NoError(t, err)
	line = line[1:]
	require.Equal(t, -1, bytes.IndexAny(line, "\r\n"), "line %q", line)
	if isJSONFormat(f) {
		require.True(t, json.Valid(line), "line %q", line)
	}
	got, err := parse(line)
	if why, _ := unwritten(&r); why != "" {
		require.ErrorIs(t, err, ErrBadRecord, "line %q", line)
		require.Contains(t, err.Error(), why)
		return
	}
	require.NoError(t, err, "line %q", line)
	require.Equal(t, r, got, "line %q", line)
}

func FuzzBCMRoundTrip(f *testing.F) {
	addRoundTripSeeds(f)
	f.Fuzz(func(t *testing.T, module, actor, subject, object, oldValue, newValue, client, session, reason, key, value, mac string,
		seq uint64, micro int64, typ, outcome uint8) {
		fuzzRoundTrip(t, bcmFormatter{}, ParseBCM, module, actor, subject, object, oldValue, newValue, client, session, reason,
			key, value, mac, seq, micro, typ, outcome)
	})
}

func FuzzCEFRoundTrip(f *testing.F) {
	addRoundTripSeeds(f)
	f.Fuzz(func(t *testing.T, module, actor, subject, object, oldValue, newValue, client, session, reason, key, value, mac string,
		seq uint64, micro int64, typ, outcome uint8) {
		fuzzRoundTrip(t, defaultCEF, ParseCEF, module, actor, subject, object, oldValue, newValue, client, session, reason,
			key, value, mac, seq, micro, typ, outcome)
	})
}

func FuzzOCSFRoundTrip(f *testing.F) {
	addRoundTripSeeds(f)
	f.Fuzz(func(t *testing.T, module, actor, subject, object, oldValue, newValue, client, session, reason, key, value, mac string,
		seq uint64, micro int64, typ, outcome uint8) {
		fuzzRoundTrip(t, defaultOCSF, ParseOCSF, module, actor, subject, object, oldValue, newValue, client, session, reason,
			key, value, mac, seq, micro, typ, outcome)
	})
}

// isJSONFormat reports whether f writes JSON objects.
func isJSONFormat(f Formatter) bool {
	switch f.(type) {
	case jsonFormatter, *OCSFFormatter:
		return true
	}
	return false
}

func FuzzJSONRoundTrip(f *testing.F) {
	addRoundTripSeeds(f)
	f.Fuzz(func(t *testing.T, module, actor, subject, object, oldValue, newValue, client, session, reason, key, value, mac string,
		seq uint64, micro int64, typ, outcome uint8) {
		fuzzRoundTrip(t, jsonFormatter{}, ParseJSON, module, actor, subject, object, oldValue, newValue, client, session, reason,
			key, value, mac, seq, micro, typ, outcome)
	})
}

// addLineSeeds seeds a parser fuzz target with the lines of both formats and
// the lines the parsers must refuse.
func addLineSeeds(f *testing.F, errorCases []parseErrorCase) {
	for _, c := range conformanceCases() {
		for _, ft := range formats {
			line, err := ft.f.Append(nil, &c.rec)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(line)
		}
	}
	for _, c := range errorCases {
		f.Add([]byte(c.line))
	}
}

// fuzzParse checks that parse refuses line with ErrBadRecord or reads a record
// that a Logger writes and that f formats back to the same bytes.
func fuzzParse(t *testing.T, f Formatter, parse func([]byte) (Record, error), line []byte) {
	r, err := parse(line)
	if err != nil {
		require.ErrorIs(t, err, ErrBadRecord)
		return
	}
	why, _ := unwritten(&r)
	require.Empty(t, why, "accepted line %q", line)
	out, err := f.Append(nil, &r)
	require.NoError(t, err, "record %#v", r)
	require.Equal(t, string(line), string(out), "an accepted line formats back byte for byte")
	again, err := parse(out)
	require.NoError(t, err, "line %q", out)
	require.Equal(t, r, again, "line %q", out)
	if isJSONFormat(f) {
		require.True(t, json.Valid(line), "accepted line %q is not JSON", line)
		require.True(t, json.Valid(out), "line %q", out)
	}
}

func FuzzParseBCM(f *testing.F) {
	addLineSeeds(f, bcmErrorCases)
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, bcmFormatter{}, ParseBCM, line) })
}

func FuzzParseJSON(f *testing.F) {
	addLineSeeds(f, jsonErrorCases)
	f.Fuzz(func(t *testing.T, line []byte) { fuzzParse(t, jsonFormatter{}, ParseJSON, line) })
}

func FuzzParseCEF(f *testing.F) {
	addLineSeeds(f, cefErrorCases)
	f.Fuzz(func(t *testing.T, line []byte) {
		// ParseCEF accepts any product: format back with the line's.
		p := cefParser{s: string(line)}
		header, _ := p.parse(new(Record))
		fuzzParse(t, &CEFFormatter{header: header}, ParseCEF, line)
	})
}

func FuzzParseOCSF(f *testing.F) {
	addLineSeeds(f, ocsfErrorCases)
	f.Fuzz(func(t *testing.T, line []byte) {
		// ParseOCSF accepts any product: format back with the line's.
		p := ocsfParser{jp: jsonParser{s: string(line), format: "ocsf"}}
		lf, _ := p.parse(new(Record))
		if lf == nil {
			lf = defaultOCSF
		}
		fuzzParse(t, lf, ParseOCSF, line)
	})
}

// FuzzSplitIP checks that the CEF and OCSF formatters take for an IP address
// exactly the clients that package netip writes back unchanged.
func FuzzSplitIP(f *testing.F) {
	for _, s := range []string{"10.1.2.3", "10.1.2.3:5060", "[2001:db8::1]:443", "2001:db8::1", "::ffff:10.0.0.1",
		"[::1]:0", "cafe", "1.2.3", "010.1.2.3", "10.1.2.3:05060", "[10.1.2.3]:80", "fe80::1%eth0", "dead:beef"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, port, ok := splitIP(s)
		a, err := netip.ParseAddr(s)
		isAddr := err == nil && a.Zone() == "" && a.String() == s
		ap, err := netip.ParseAddrPort(s)
		isAddrPort := err == nil && ap.Addr().Zone() == "" && ap.String() == s
		require.Equal(t, isAddr || isAddrPort, ok, "%q", s)
		switch {
		case isAddr:
			require.Equal(t, s, addr)
			require.Empty(t, port)
		case isAddrPort:
			require.Equal(t, ap.Addr().String(), addr)
			require.Equal(t, strconv.Itoa(int(ap.Port())), port)
		}
	})
}
