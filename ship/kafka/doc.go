// Package kafka ships audit records to Kafka and collects them from it into
// mirror directories that the library and auditlog read like a host's
// audit directory.
//
// It is a module of its own, so that the core module and its auditlog
// command do not depend on a Kafka client. It has three parts:
//
//   - [Destination], a [ship.Destination] for kafka://broker1,broker2/topic
//     and kafka+tls:// URLs ([Open]): one idempotent producer with acknowledgements from all
//     in-sync replicas. Each record goes to the topic with the key
//     host + "/" + module, so that a module's records stay in order in one
//     partition, the record line exactly as written as its value, and
//     headers naming its host, module, file, seq, type and outcome.
//   - [Shipper], which follows one module's audit files from a
//     [ship.Cursor] and hands the records to a Destination, moving the
//     cursor only past the records the brokers acknowledged. It also ships
//     the module's head file whenever it changes, so that the mirror can be
//     verified like the host's files.
//   - [Collector], which consumes the topic in a consumer group and writes
//     each host's and module's records into mirror files under
//     DIR/<host>/, one per source file and named like the library's
//     backups, syncs them and only then commits its offsets. Duplicates are
//     dropped by (host, module, file, seq); after a restart the collector
//     finds where each module's mirror ends from the mirror files
//     themselves.
//
// # TLS and SASL
//
// A kafka+tls:// URL speaks TLS 1.2 or later to the brokers, verified
// against the CA file of option ca (the system's roots without it), with
// the client certificate of options cert and key when the brokers ask for
// one, and servername for brokers whose certificates do not hold the host
// dialled, as the core module's tls:// destinations do:
//
//	kafka+tls://k1:9093,k2:9093/audit?ca=/etc/audit/kafka-ca.pem&cert=/etc/audit/client.pem&key=/etc/audit/client.key
//
// Option sasl names a SASL mechanism, plain, scram-sha-256 or
// scram-sha-512, and user the user:
//
//	kafka+tls://k1:9093/audit?ca=/etc/audit/kafka-ca.pem&sasl=scram-sha-512&user=shipper&password-file=/etc/audit/kafka.pw
//
// The password is never in the URL, where ps and logs would show it: it
// is read from the file of option password-file, which must be a regular
// file only its owner may read or write (its content without a final line
// end), or given in [Config.Password]; auditlog-kafka takes it from the
// environment variable AUDITLOG_KAFKA_PASSWORD. PLAIN sends the password
// as it is, so sasl=plain over kafka:// is refused unless the URL also
// says cleartext=allow. [Open] and [NewCollector] read the files at once
// and name the one they cannot use. A failure to connect, to shake hands
// or to authenticate, which the client retries, backing off, is reported
// to [Config.OnError] once per streak, naming the broker; nothing is
// acknowledged meanwhile, so the shipper's cursor stays where it is.
//
// The cursor file is named by the URL's scheme and brokers: a move from
// kafka:// to kafka+tls:// (or to other ports) starts a new cursor, and
// the shipper sends the module's files from their beginning again; the
// collector drops the records its mirror already has.
//
// The command auditlog-kafka (in cmd/auditlog-kafka) runs the shipper and
// the collector from the command line.
package kafka
