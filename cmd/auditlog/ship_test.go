package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
	"github.com/stretchr/testify/require"
)

// frameReceiver accepts RFC 6587 octet-counted frames on 127.0.0.1 and
// keeps their contents.
type frameReceiver struct {
	l    net.Listener
	mu   sync.Mutex
	msgs [][]byte
}

func newFrameReceiver(t *testing.T) *frameReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &frameReceiver{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *frameReceiver) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		n, err := br.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(n[:len(n)-1])
		if err != nil {
			return
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, msg)
		r.mu.Unlock()
	}
}

func (r *frameReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

func TestShipRunsUntilStopped(t *testing.T) {
	dir := t.TempDir()
	l, err := audit.New(config(dir, "AgentServer", "bcm"))
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.Logon, Actor: fmt.Sprint("user", i)}))
	}
	require.NoError(t, l.Close())
	r := newFrameReceiver(t)
	cmd := exec.Command(binary, "ship", dir, "--module", "AgentServer", "--to", "tcp://"+r.l.Addr().String(), "--host", "agent01")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for r.count() < 200 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, 200, r.count())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "exit status 0 after SIGTERM; stderr: %s", stderr.String())
	require.Contains(t, stderr.String(), "stopped: 200 records shipped, 0 skipped")
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Contains(t, string(r.msgs[0]), ` agent01 AgentServer - `)
	require.Contains(t, string(r.msgs[199]), "actor=user199")
}

func TestShipUsage(t *testing.T) {
	dir := t.TempDir()
	corrupt := t.TempDir()
	require.NoError(t, os.WriteFile(ship.CursorPath(corrupt, "M", "tcp://127.0.0.1:1"), []byte("garbage\n"), 0o600))
	busy := t.TempDir()
	lock, err := ship.LockCursor(ship.CursorPath(busy, "M", "tcp://127.0.0.1:1"))
	require.NoError(t, err)
	defer lock.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no directory", []string{"ship", "--module", "M", "--to", "tcp://127.0.0.1:1"}, "want one directory"},
		{"no module", []string{"ship", dir, "--to", "tcp://127.0.0.1:1"}, "--module is required"},
		{"no destination", []string{"ship", dir, "--module", "M"}, "--to is required"},
		{"bad URL", []string{"ship", dir, "--module", "M", "--to", "ftp://x:1"}, `unknown scheme "ftp"`},
		{"CA file for tcp", []string{"ship", dir, "--module", "M", "--to", "tcp://x:1", "--ca-file", "ca.pem"}, "apply to tls:// and relp+tls:// only"},
		{"missing CA file", []string{"ship", dir, "--module", "M", "--to", "tls://x:1", "--ca-file", dir + "/none.pem"}, "CA file"},
		{"not a directory", []string{"ship", dir + "/none", "--module", "M", "--to", "tcp://x:1"}, "is not a directory"},
		{"corrupt cursor", []string{"ship", corrupt, "--module", "M", "--to", "tcp://127.0.0.1:1"}, "corrupt shipping cursor (move the cursor file aside"},
		{"cursor in use", []string{"ship", busy, "--module", "M", "--to", "tcp://127.0.0.1:1"}, "shipping cursor in use by another shipper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := auditlog(t, tt.args...)
			require.Equal(t, exitUsage, res.code, res.stderr)
			require.Contains(t, res.stderr, tt.want)
		})
	}
	res := auditlog(t, "help", "ship")
	require.Equal(t, exitOK, res.code)
	require.Contains(t, res.stdout, "relp://host:port")
}
