// Package ship delivers audit records off the host: to rsyslog or any
// RFC 5424 receiver over TCP or TLS, or with acknowledgements over RELP.
//
// The audit files are the spool. A follower reads a module's records from
// a durable [Cursor], hands them in order to a [Destination] with
// [Destination.Ship], and moves the cursor past the records the
// destination acknowledged ([WriteCursor]). Delivery is at least once:
// after a crash or an outage, shipping resumes from the cursor, and a
// receiver drops duplicates by (host, module, file, seq), which every
// message carries.
//
// # Messages
//
// Each record becomes one RFC 5424 message ([Format.Append]): the facility
// is log audit (13) unless configured otherwise, the severity notice for a
// successful action and warning for a failed one, TIMESTAMP the record's
// time, HOSTNAME the host, APP-NAME the module, PROCID "-", MSGID the
// event type, and one structured-data element ([DefaultSDID]) with host,
// module, file, seq and outcome. MSG is the record line exactly as written
// in the audit file, without a byte-order mark, so that the central copy
// verifies with the same integrity key.
//
// # Destinations
//
// [Open] takes a [Config] whose URL names the destination:
//
//	tcp://host:port        RFC 6587 octet-counting frames over TCP
//	tls://host:port        the same over TLS (RFC 5425), ?ca=FILE&cert=FILE&key=FILE
//	relp://host:port       RELP (rsyslog's imrelp), ?window=N
//	relp+tls://host:port   RELP over TLS, with the options of both
//
// TCP and TLS have no acknowledgement: a record counts as delivered once
// it was written to the connection, and records that were in flight when
// a connection dropped can be lost. A connection the receiver closed is
// noticed before the next batch (on Linux), and the records written on it
// since it was last seen open are sent again on the next connection, so
// that a receiver that accepts and closes at once (a load balancer
// without a backend) does not swallow them; the receiver drops the
// duplicates by id. A connection the receiver reset (as such a receiver
// does) is reported as a failure; one closed in order (a restart, an idle
// timeout) is not. RELP acknowledges every record; the
// cursor moves only past acknowledged records, so an outage of the
// receiver loses nothing.
//
// Ship reconnects and resends on failure, backing off from
// [Config.MinBackoff] up to [Config.MaxBackoff], and reports the first
// error of each streak of failures to [Config.OnError], not every retry.
//
// # Shipper
//
// [NewShipper] puts it together: a [Shipper] follows one module's files
// with [audit.Follow] from the cursor, ships the records in batches, and
// writes the cursor past what the destination acknowledged. It runs beside
// a Logger (Start and Close, no goroutine left after Close) or as the
// command "auditlog ship". A record that cannot be shipped is skipped and
// reported as a [*SkipError]; [Shipper.Stats] gives what was shipped and
// the backlog, whose limits are reported through OnError ([ErrBacklog]).
//
// # Latency and cost
//
// A Shipper runs next to the application's Logger and competes with it
// for the same cores, so it works in large pieces. It reads whatever the
// files hold, up to [ShipperConfig.Batch] records (256) or 256 KiB at a
// time, into buffers it reuses, and hands each batch to the destination
// in one Ship call; it allocates nothing per record. At the end of the
// files it waits before looking again: [ShipperConfig.Poll]/8 (25 ms by
// default) when its last look found records, doubling after each look
// that found none, up to Poll (200 ms). A record is thus read at most
// Poll after it was written, and within Poll/8 while records keep
// coming, then shipped once the records ahead of it are; an idle shipper
// wakes five times a second. The cursor file, replaced with two fsyncs,
// is written at most once per [ShipperConfig.CursorInterval] (500 ms),
// and at most that long after a batch was acknowledged: a crash resends
// the records acknowledged in that time, never skips one.
//
// # Cursor
//
// The position of one module's shipping to one destination is a [Cursor]
// in a small file beside the audit files ([CursorPath]), replaced
// atomically by [WriteCursor] and checked by [ReadCursor]. While it is
// there, the logger's retention keeps every file not yet shipped to its
// end.
package ship
