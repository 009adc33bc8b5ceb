// Package audit writes the audit logs of the product's server modules: a
// record of security-relevant activity (logons, changes to users and access
// rights, access to protected data, configuration changes, server start and
// stop, sessions and channels, no-consent overrides) from which an auditor
// can reconstruct what happened.
//
// # Use
//
// A module creates one [Logger] at start-up from its settings, logs typed
// [Event] values as things happen, and closes the Logger at shutdown:
//
//	cfg, err := audit.ConfigFromParams("AgentServer", params)
//	...
//	l, err := audit.New(cfg)
//	...
//	defer l.Close()
//	err = l.Log(ctx, audit.Event{Type: audit.Logon, Outcome: audit.Failed,
//		Actor: "alice", Client: "10.1.2.3", Reason: "bad password"})
//
// # Event mask
//
// Each [EventType] belongs to one category of the [Mask] (AuditEventMask):
// presence, system, config, read or modify. An event is written when the
// mask holds its category, or when it failed and the mask holds failure.
// [AuditConfigChange] is always written. The mask is checked before anything
// is formatted: a filtered-out event costs a few nanoseconds and allocates
// nothing. [Logger.SetMask] changes the mask at run time and records the
// change.
//
// A server's middleware can put the fields it knows once per request (who
// acts, from where, in which session) into the request's context with
// [WithRequest]; Log fills an event's empty fields from it.
//
// # Formats
//
// Records are rendered by a [Formatter] chosen by name (AuditLogFormatter):
// BCM, a line format for people and grep, JSON Lines, CEF or OCSF for SIEMs.
// Every record is exactly one line whatever its fields hold, and carries a
// per-file sequence number so that a missing record shows as a gap.
// [ParseBCM], [ParseJSON], [ParseCEF], [ParseOCSF] and [ParseRecord] read
// records back, strictly: a line no Logger writes is refused.
//
// # Files
//
// Records go to <Module>.audit.log in AuditLogPath, or in the trace-log
// directory LogPath when AuditLogPath is unset. The directory is created
// with mode 0750 and files with 0640. Files rotate by size and at midnight,
// rotated files are named <Module>.audit-<UTC time>.log (optionally gzipped),
// and backups older than the retention time are removed. Only this module's
// rotated audit files are ever removed.
//
// # Reading the files
//
// [ListFiles] lists a module's files in the order written (rotated,
// compressed and active), [Modules] the modules of a directory, [OpenFile]
// reads a file's lines in bounded memory, and [Follow] streams a module's
// records from a [Cursor] on, following the active file across rotations
// without losing or repeating one. The auditlog command and the shipper
// read through them.
//
// # Integrity
//
// With Config.Integrity every record carries a MAC chained to the record
// before it, every file starts with a [FileStart] record chained to the
// file before it, and a head file beside them names the newest record the
// Logger made durable, sealed with the key in use. [Verify] checks all of
// it in bounded memory and reports, per module, the newest record it
// vouches for or the first [Problem]; see the README for what is and is not
// detected.
//
// # Guarantees
//
// [Logger.Log] returns only after its record was written to the operating
// system, or synced to stable storage under [SyncEveryEvent]; errors are returned
// (or, under [FailOpen], counted and reported), never swallowed. Concurrent
// records are written in batches (group commit), so that many goroutines
// share one write and one sync.
package audit
