// Package kafka ships audit records to Kafka and collects them from it into
// mirror directories that the library and auditlog read like a host's
// audit directory.
//
// It is a module of its own, so that the core module and its auditlog
// command do not depend on a Kafka client. It has three parts:
//
//   - [Destination], a [ship.Destination] for kafka://broker1,broker2/topic
//     URLs ([Open]): one idempotent producer with acknowledgements from all
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
// The command auditlog-kafka (in cmd/auditlog-kafka) runs the shipper and
// the collector from the command line.
package kafka
