// Package audittest offers a [Logger] for the unit tests of code that
// writes audit records, as zap's zaptest/observer and log/slog's slogtest
// do for logs.
//
// [New] returns a Logger that keeps its records in memory instead of files.
// It is a real [audit.Logger] writing to an in-memory stream: every event
// goes through the same mask, validation and formatting, and every line is
// read back with the format's parser (for a format of the module's own, the
// Parse method of its [audit.Formatter], if it implements [audit.Parser]).
// So a test sees an invalid event as the
// error Log returns, a filtered event as no record, and a record exactly as
// a file would hold it:
//
//	func TestLogonFailure(t *testing.T) {
//		l := audittest.New(t)
//		server := NewServer(l.Logger)
//		server.Logon("mallory", "wrong password")
//		got := l.Records().Type(audit.Logon).Outcome(audit.Failed).Actor("mallory")
//		if len(got) != 1 {
//			t.Fatalf("want one failed logon of mallory, got %v", l.Lines())
//		}
//	}
//
// The Logger is closed when the test ends, and an error of Close, or a line
// that does not read back, fails the test.
package audittest
