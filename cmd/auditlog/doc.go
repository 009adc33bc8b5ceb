// Command auditlog reads the audit files written by package
// github.com/auditkit/audit: it searches, follows, converts and summarises
// them, checks that they are the files that were written, and explains
// event masks.
//
// Usage:
//
//	auditlog query DIR [--since T] [--until T] [--type T,...] [--outcome O]
//	                   [--actor A] [--subject S] [--client C] [--module M]
//	                   [--output table|json|bcm]
//	auditlog tail [-f] DIR [--module M] [-n N] [--poll D] [--for D] [--output F]
//	auditlog convert --to json|bcm FILE...
//	auditlog stats DIR [--since T] [--until T] [--module M]
//	auditlog mask MASK
//	auditlog verify DIR [--module M] [--key-file F]
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
// A module's files are read oldest backup first, by the time in their
// names, and its active file last. The records of several modules are merged
// by record time.
//
// # query
//
// query prints the records that match every filter given:
//
//	--since T, --until T  record time at or after since, and before until.
//	                      T is an RFC 3339 time (2026-11-25T09:00:00Z), a
//	                      date (2026-11-25, midnight UTC), or a duration
//	                      before now: 90m, 24h, 7d, 1d12h.
//	--type T,...          event types, such as LOGON,DATA_READ (any case).
//	--outcome O           success or failure.
//	--actor, --subject, --client, --module
//	                      exact value of the field.
//
// --output selects the output: table (aligned columns TIME, MODULE, TYPE,
// OUTCOME, ACTOR, SUBJECT, OBJECT, CLIENT, REASON, with control characters
// escaped), json (JSON Lines) or bcm (the BCM line format), both rendered by
// the library's formatters so that they read back with audit.ParseRecord.
// The default is table when standard output is a terminal and bcm
// otherwise.
//
// # tail
//
// tail prints the last -n records (default 10) of a module's active file.
// --module is needed when DIR holds several modules. With -f it then
// follows the file, polling every --poll (default 200ms): when the file is
// rotated it finishes reading the old file, reads any backups rotated in
// between, and goes on at the start of the new one, so that every record is
// printed once. It stops on SIGINT or SIGTERM, or after --for if given.
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
// failed LOGON events.
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
// name and line number, and the rest is read. While several files are read
// and standard error is a terminal, a progress line is shown there.
//
// The exit status is 0 on success; 1 when a problem was found in the input:
// a line or file was skipped (query, tail, convert, stats); 2 for a usage
// error, such as a bad flag value, or an I/O error such as a missing
// directory.
package main
