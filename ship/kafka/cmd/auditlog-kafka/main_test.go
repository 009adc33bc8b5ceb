package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	t.Setenv(passwordEnv, "")
	tests := []struct {
		args   []string
		status int
		want   string
	}{
		{args: nil, status: 2, want: "usage:"},
		{args: []string{"help"}, status: 0, want: "usage:"},
		{args: []string{"nosuch"}, status: 2, want: `unknown command "nosuch"`},
		{args: []string{"ship", "dir", "--to", "kafka://b/t"}, status: 2, want: "--module and --to are required"},
		{args: []string{"ship", "--module", "M", "--to", "kafka://b/t"}, status: 2, want: "want one directory, got 0"},
		{args: []string{"ship", "a", "b", "--module", "M", "--to", "kafka://b/t"}, status: 2, want: "want one directory, got 2"},
		{args: []string{"ship", "dir", "--module", "M", "--to", "tcp://b:1"}, status: 2, want: "bad destination"},
		{args: []string{"ship", "dir", "--module", "M", "--to", "kafka+tls://b/t?sasl=plain&user=u&password=p"}, status: 2, want: "a password does not go in the URL"},
		{args: []string{"ship", "dir", "--module", "M", "--to", "kafka://b/t?sasl=plain&user=u"}, status: 2, want: "sasl=plain without TLS sends the password in clear"},
		{args: []string{"collect", "dir", "--from", "kafka+tls://b/t?sasl=scram-sha-512&user=u"}, status: 2, want: "needs a password"},
		{args: []string{"collect", "dir"}, status: 2, want: "--from is required"},
		{args: []string{"collect", "dir", "--from", "kafka://b"}, status: 2, want: "missing topic"},
		{args: []string{"collect", "dir", "--from", "kafka://b/t", "--group", ""}, status: 2, want: "consumer group is required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stderr); got != tt.status || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("status %d, stderr %q; want %d and %q", got, stderr.String(), tt.status, tt.want)
			}
		})
	}
}
