package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// connWatch is a hook of the Kafka client that reports failures to
// connect to a broker: the dial, the TLS handshake (an unknown CA, a name
// that does not match) and SASL authentication (a wrong password). The
// client retries those itself, backing off, and records wait for the
// connection without failing, so nothing else would tell. The first
// failure of each streak is reported; a streak ends when a connection
// succeeds.
type connWatch struct {
	target Target
	report func(error) // nil reports nothing

	mu      sync.Mutex
	failing error // the last failure of the streak, nil when there is none
}

var _ kgo.HookBrokerConnect = (*connWatch)(nil)

// OnBrokerConnect implements [kgo.HookBrokerConnect].
func (w *connWatch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return // closing
	}
	if err != nil {
		broker := net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))
		if w.target.SASL != "" && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			// Some brokers answer a failed authentication by closing
			// the connection, without an error code.
			err = fmt.Errorf("%w: the broker closed the connection while connecting; a wrong SASL user or password (sasl=%s, user %s) can be why", err, w.target.SASL, w.target.User)
		}
		err = fmt.Errorf("audit: %s: broker %s: connect: %w", w.target, broker, err)
	}
	w.mu.Lock()
	first := err != nil && w.failing == nil
	w.failing = err
	w.mu.Unlock()
	if first && w.report != nil {
		w.report(err)
	}
}

// err returns the last failure to connect of the current streak, nil when
// the last connection succeeded.
func (w *connWatch) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failing
}
