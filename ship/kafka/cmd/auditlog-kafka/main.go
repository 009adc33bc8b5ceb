// Command auditlog-kafka ships a module's audit files to Kafka and collects
// them from Kafka into mirror directories.
//
// Usage:
//
//	auditlog-kafka ship DIR --module M --to URL [--host NAME]
//	auditlog-kafka collect DIR --from URL [--group NAME]
//
// URL is kafka://broker1,broker2/topic, or kafka+tls:// for TLS, with
// options in the query:
//
//	kafka+tls://k1:9093,k2:9093/audit?ca=FILE&cert=FILE&key=FILE&servername=NAME
//	kafka+tls://k1:9093,k2:9093/audit?sasl=scram-sha-512&user=NAME&password-file=FILE
//
// ca is the PEM file of the CA that signs the brokers' certificates (the
// system's roots without it), cert and key a client certificate and its
// key, servername the name the brokers' certificates hold when it is not
// the host dialled. sasl is plain, scram-sha-256 or scram-sha-512 and user
// the SASL user. The password is never in the URL, where ps and logs would
// show it: it is read from the file password-file names, which only its
// owner may read or write, or else from the environment variable
// AUDITLOG_KAFKA_PASSWORD. sasl=plain sends the password as it is, so it
// is refused without TLS unless the URL also says cleartext=allow.
//
// ship follows module M's audit files in DIR from its cursor file
// (<M>.ship-<digits>.cursor in DIR) and produces every record to the topic,
// moving the cursor only past the records the brokers acknowledged. --host
// names the host in the records and in the mirror (default: the host name).
//
// collect consumes the topic in consumer group --group (default
// "auditlog-collect") and writes each host's and module's records into
// DIR/<host>/, named like the library's audit files, so that
// "auditlog verify DIR/<host>", "auditlog query" and "auditlog stats" read
// them. Run several collectors in the same group to share the partitions.
//
// Both run until stopped with SIGINT or SIGTERM, then exit with status 0.
// Errors that retrying cures are reported on standard error once per
// streak; an error that stops the command exits with status 1, bad usage
// or a destination, cursor file or password file that cannot be used (as
// with auditlog ship) with status 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	shipping "github.com/auditkit/audit/ship"
	"github.com/auditkit/audit/ship/kafka"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

const usage = `usage:
  auditlog-kafka ship DIR --module M --to URL [--host NAME]
  auditlog-kafka collect DIR --from URL [--group NAME]

URL is kafka://broker1,broker2/topic or kafka+tls://..., with options:
  ca=FILE cert=FILE key=FILE   CA and client certificate (kafka+tls:// only)
  servername=NAME              the name in the brokers' certificates
  sasl=MECHANISM user=NAME     SASL: plain, scram-sha-256 or scram-sha-512
  password-file=FILE           the SASL password (mode 0600); else $` + passwordEnv + `
  cleartext=allow              accept sasl=plain without TLS
`

// passwordEnv is the environment variable that holds the SASL password
// when the URL names no password file.
const passwordEnv = "AUDITLOG_KAFKA_PASSWORD"

// run runs the command with args and returns its exit status.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	report := func(err error) { fmt.Fprintln(stderr, "auditlog-kafka:", err) }
	fs := flag.NewFlagSet("auditlog-kafka "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var err error
	switch args[0] {
	case "ship":
		module := fs.String("module", "", "the module whose files to ship")
		to := fs.String("to", "", "kafka://broker1,broker2/topic or kafka+tls://")
		host := fs.String("host", "", "the host name in the records (default: this host's name)")
		dir, ok := parseArgs(fs, args[1:], stderr)
		if !ok || *module == "" || *to == "" {
			if ok {
				fmt.Fprintln(stderr, "auditlog-kafka ship: --module and --to are required")
			}
			return 2
		}
		if *host == "" {
			if *host, err = os.Hostname(); err != nil {
				report(err)
				return 1
			}
		}
		err = ship(ctx, dir, *module, *host, *to, report)
	case "collect":
		from := fs.String("from", "", "kafka://broker1,broker2/topic or kafka+tls://")
		group := fs.String("group", "auditlog-collect", "the consumer group")
		dir, ok := parseArgs(fs, args[1:], stderr)
		if !ok || *from == "" {
			if ok {
				fmt.Fprintln(stderr, "auditlog-kafka collect: --from is required")
			}
			return 2
		}
		err = collect(ctx, dir, *from, *group, report)
	case "help", "-h", "--help":
		fmt.Fprint(stderr, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "auditlog-kafka: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		report(err)
		if errors.Is(err, shipping.ErrBadDestination) || errors.Is(err, shipping.ErrBadCursor) {
			return 2
		}
		return 1
	}
	return 0
}

// parseArgs parses flags that may stand before or after the one directory
// argument.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (string, bool) {
	var dirs []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", false
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		dirs, args = append(dirs, args[0]), args[1:]
	}
	if len(dirs) != 1 {
		fmt.Fprintf(stderr, "%s: want one directory, got %d\n", fs.Name(), len(dirs))
		return "", false
	}
	return dirs[0], true
}

func ship(ctx context.Context, dir, module, host, url string, report func(error)) error {
	d, err := kafka.Open(url, config(url, report))
	if err != nil {
		return err
	}
	defer d.Close()
	s := &kafka.Shipper{Dir: dir, Module: module, Host: host, Dest: d, URL: url, OnError: report}
	return s.Run(ctx)
}

func collect(ctx context.Context, dir, url, group string, report func(error)) error {
	c, err := kafka.NewCollector(url, group, dir, config(url, report))
	if err != nil {
		return err
	}
	err = c.Run(ctx)
	return errors.Join(err, c.Close())
}

// config returns the configuration of the client of url: the password in
// the environment when url names a SASL mechanism but no password file.
func config(url string, report func(error)) kafka.Config {
	cfg := kafka.Config{OnError: report}
	if t, err := kafka.ParseURL(url); err == nil && t.SASL != "" && t.PasswordFile == "" {
		cfg.Password = os.Getenv(passwordEnv)
	}
	return cfg
}
