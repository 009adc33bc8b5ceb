// Command auditlog reads the audit files written by package
// github.com/auditkit/audit: it searches, follows, converts and summarises
// them, checks that they are the files that were written, and explains
// event masks.
//
// Usage:
//
//	auditlog query DIR [filters] [--output table|csv|json|bcm|cef|ocsf] [--columns C,...]
//	                   [--local | --tz ZONE] [--strict]
//	auditlog report logons|failures|changes|sessions|daily DIR [filters]
//	                   [--output table|csv|json] [--local]
//	auditlog tail [-f] DIR [--module M] [-n N] [--poll D] [--for D] [--output F]
//	auditlog convert --to json|bcm|cef|ocsf FILE...
//	auditlog stats DIR [--since T] [--until T] [--module M] [--output text|json]
//	auditlog serve DIR [--addr 127.0.0.1:8080] [--key-dir D | --key-file F] [--token-file F]
//	auditlog mask MASK
//	auditlog verify DIR [--module M] [--key-dir D | --key-file F] [--anchors PATH]
//	auditlog verify FILE --module M [--key-dir D | --key-file F]
//	auditlog ship DIR --module M --to URL [--ca-file F] [--cert-file F] [--key-file F]
//	auditlog key FILE
//	auditlog help [COMMAND]
//
// Flags may come before or after DIR, with one dash or two.
//
// DIR is an audit directory (AuditLogPath). In it, the active file of module
// M is M.audit.log, and its rotated backups are M.audit-<UTC time>.log, or
// M.audit-<UTC time>.log.gz once compressed. Every other file (trace logs,
// lock files, quarantined torn records, compressions in progress) is
// ignored. Files of both built-in formats, BCM and JSON, are read, even
// mixed in one file: each line is read by the format it is in.
//
// A module's files are listed by the library (audit.ListFiles): oldest
// backup first, by the time in their names, which the writer never lets go
// back, and its active file last; each module is read by a goroutine of its
// own.
// The records of several modules are merged by record time. A --module
// that DIR does not hold is an error (exit status 2) that lists the
// modules it holds.
//
// # query
//
// query prints the records that match every filter given:
//
//	--since T, --until T  record time at or after since, and before until.
//	                      T is an RFC 3339 time (2026-11-25T09:00:00Z), a
//	                      local date or time without a zone (2026-11-25,
//	                      2026-11-25T09:00, 2026-11-25 09:00:30), today,
//	                      yesterday, this-week (since Monday), or a duration
//	                      before now: 90m, 12h, 3d, 1w, 1d12h.
//	--type T,...          event types, such as LOGON,DATA_READ (any case);
//	                      !T leaves T out.
//	--outcome O           success or failure (also succeeded, ok, failed,
//	                      fail); !O for the other.
//	--actor, --subject, --object, --client, --session, --module
//	                      exact value of the field; repeat for any of
//	                      several; a leading '!' leaves the value out
//	                      (write '\!' for a value that starts with '!',
//	                      '\\' for one that starts with '\!' or '\\').
//	--grep TEXT           TEXT in any value (case-sensitive); repeat to
//	                      require each.
//
// With --since or --until, files that cannot hold a record of the period
// are not read: a module's records are in time order, so each file holds
// the records from its first record's time up to the next file's first.
//
// query reads a line only as far as its filters need. The leading fields
// of a line written the library's way (time, module, type, outcome) are
// read without parsing the rest, a value that a filter looks for is first
// looked up in the raw line (when it holds no escape), and only the lines
// that may match are parsed. A line that the leading fields rule out is
// not checked further; --strict parses every line, and verify checks
// every byte.
//
// --output selects the output: table, csv, json (JSON Lines) or bcm (the
// BCM line format). The default is table when standard output is a
// terminal and bcm otherwise. The table streams with fixed column widths
// in display columns (wide characters count as two, a longer value is cut
// with '…', control characters are escaped); --columns picks its columns
// among time, module, seq, type, outcome, actor, subject, object, old,
// new, client, session, reason, fields and file, or all; --local and --tz
// show times in a time zone. CSV follows RFC 4180, and a cell that starts
// with '=', '+', '-', '@', tab or carriage return is prefixed with "'" so
// that a spreadsheet does not run it. JSON and BCM output print a record
// whose line is already in that format as the line itself, and render it
// with the library's formatter otherwise; both read back with
// audit.ParseRecord.
//
// # report
//
// report prints a summary of the records that pass query's filters:
// logons (LOGON events by actor and client, failed and successful, with
// the first and last failure), failures (failed events by type, actor and
// client, with the first and last time), changes (every change to users,
// access rights and configuration, with old and new values), sessions
// (records by session) or daily (records per day and type). The last
// column of each row is the query command that prints its records.
//
// # tail
//
// tail prints the last -n records (default 10) of a module's active file.
// --module is needed when DIR holds several modules. With -f it then
// follows the module's records with the library's follower (audit.Follow),
// polling every --poll (default 200ms): when the file is rotated it
// finishes reading the old file, reads any backups rotated in between, and
// goes on at the start of the new one, so that every record is printed
// once. If the file, or DIR, does not exist yet, tail -f waits for it and
// prints every record from the first. It stops on SIGINT or SIGTERM, or
// after --for if given, and with an error if a file it has yet to read to
// its end is removed.
//
// # convert
//
// convert re-renders every record of the files given (plain or gzipped; "-"
// or none is standard input) in the format named by --to, in file and line
// order, on standard output.
//
// # stats
//
// stats counts the records of the period per module, per event type and
// per outcome, and lists the ten actors and the ten clients with the most
// failed LOGON events; --output json prints them as one JSON object. Like
// query it reads lines only as far as it needs.
//
// # serve
//
// serve is a read-only web viewer of DIR for auditors: an overview of each
// module with its integrity verdict (worked out in the background), a
// timeline of records per hour or day with failures stacked apart, a
// search with query's filters whose rows stream and open the full record,
// the reports, and the export of a search as CSV or JSON Lines. It listens
// on 127.0.0.1:8080 by default and prints the URL; any address that is not
// loopback requires a token (generated, or read from --token-file). Pages
// are rendered on the server with html/template, carry a
// Content-Security-Policy without script, and write nothing to DIR.
//
// # mask
//
// mask explains an AuditEventMask value such as "presence+read": its
// canonical form, the event types it writes, those it writes only when they
// fail, and those it leaves out.
//
// # Errors and exit status
//
// A file or line that cannot be read is reported on standard error with its
// name and line number, and the rest is read; so is the incomplete last
// line of a backup (of the active file, it is a record being written, and
// only noted). While a long scan runs and standard error is a terminal, a
// progress line (files and bytes read) is shown there.
//
// The exit status is 0 on success; 1 when a problem was found in the input:
// a line or file was skipped (query, tail, convert, stats); 2 for a usage
// error, such as a bad flag value, or an I/O error such as a missing
// directory.
package main
