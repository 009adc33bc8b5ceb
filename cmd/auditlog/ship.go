package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/auditkit/audit/ship"
)

// shipCommand ships a module's records to a collector until it is stopped.
var shipCommand = &command{
	name:    "ship",
	args:    "DIR --module M --to URL [--ca-file F] [--cert-file F --key-file F] [--host H]",
	summary: "ship a module's records off the host until stopped",
	details: `Ship follows module M's audit files in DIR (rotated, compressed and
active) and sends every record to the collector at URL, as the library's
ship.Shipper does inside an application:

  tcp://host:port        RFC 5424 over TCP, octet-counted (RFC 6587)
  tls://host:port        the same over TLS (RFC 5425)
  relp://host:port       RELP to rsyslog's imrelp: acknowledged delivery
  relp+tls://host:port   RELP over TLS

  --ca-file F    PEM certificates that may sign the server's (TLS schemes)
  --cert-file F  client certificate, with --key-file (TLS schemes)
  --key-file F   the client certificate's key
  --host H       the host name in every message (default: this machine's)

Every scheme takes ?maxsize=N (bytes, or with a k or m suffix): the
longest message the collector takes whole, 8096 by default (rsyslog's
default maxMessageSize of 8k). A longer record is named and skipped, not
sent: a collector cuts it, or over TCP splits it into messages of its own.
Raise both (rsyslog: maxMessageSize, imrelp's maxDataSize, imtcp's
maxFrameSize) to ship records of up to 1 MiB.

The position is kept in DIR/M.ship-<digits>.cursor, written only after the
collector acknowledged the records before it, so a restart (or a crash)
resumes where shipping stopped: at least once, and a collector drops
duplicates by host, module, file and seq. While the cursor file is there,
the logger's retention keeps every file not yet shipped to its end; delete
the cursor file when the destination is retired. While one ship of a
module and destination runs, a second one is refused (its cursor file is
locked, in M.ship-<digits>.cursor.lock).

It runs until SIGINT or SIGTERM, then writes the cursor past what was
acknowledged and exits with status 0. Errors go to standard error once per streak of
failures, and again when the cause changes, not once per retry; a record that cannot be shipped is named
(file and line) and skipped. Exit status 2 for a usage error or a
destination or cursor file that cannot be used.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		module := set.String("module", "", "ship module `M`")
		to := set.String("to", "", "the destination `URL`")
		caFile := set.String("ca-file", "", "PEM `file` of the CA certificates for the server")
		certFile := set.String("cert-file", "", "PEM client certificate `file`")
		keyFile := set.String("key-file", "", "PEM client key `file`")
		host := set.String("host", "", "host `name` in the messages")
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if *module == "" {
				return e.usageError(c, "--module is required")
			}
			if *to == "" {
				return e.usageError(c, "--to is required")
			}
			if st, err := os.Stat(args[0]); err != nil || !st.IsDir() {
				return e.errorf(c, "%s is not a directory", args[0])
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var mu sync.Mutex
			report := func(err error) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(e.stderr, "auditlog: ship: %v\n", err)
			}
			s, err := ship.NewShipper(ship.ShipperConfig{
				Dir: args[0], Module: *module, Host: *host,
				Destination: ship.Config{URL: *to, CAFile: *caFile, CertFile: *certFile, KeyFile: *keyFile},
				OnError:     report,
			})
			if errors.Is(err, ship.ErrBadCursor) {
				return e.errorf(c, "%v (move the cursor file aside to ship the module again from its oldest file; receivers drop the records they already have by host, module, file and seq)", err)
			}
			if err != nil {
				return e.errorf(c, "%v", err)
			}
			s.Start()
			<-ctx.Done()
			err = s.Close()
			st := s.Stats()
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.stderr, "auditlog: ship: stopped: %d records shipped, %d skipped\n", st.Shipped, st.Failed)
			if err != nil && !errors.Is(err, ship.ErrClosed) {
				fmt.Fprintf(e.stderr, "auditlog: ship: closing the connection: %v\n", err)
			}
			return exitOK
		}
	},
}
