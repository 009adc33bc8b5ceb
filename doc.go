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
// # Formats
//
// Records are rendered by a [Formatter] chosen by name (AuditLogFormatter):
// BCM, a line format for people and grep, or JSON Lines. Every record is
// exactly one line whatever its fields hold, and carries a per-file sequence
// number so that a missing record shows as a gap. [ParseBCM], [ParseJSON]
// and [ParseRecord] read records back.
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
// # Guarantees
//
// [Logger.Log] returns only after its record was written to the operating
// system, or synced to stable storage under [SyncEveryEvent]; errors are returned
// (or, under [FailOpen], counted and reported), never swallowed. Concurrent
// records are written in batches (group commit), so that many goroutines
// share one write and one sync.
package audit
