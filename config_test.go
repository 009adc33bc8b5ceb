package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigFromParams(t *testing.T) {
	cfg, err := ConfigFromParams("AgentServer", map[string]string{
		"AuditEventMask":                "presence+read",
		"AuditLogFormatter":             "json",
		"AuditLogPath":                  "/var/log/audit",
		"Log Path":                      "/var/log/trace",
		"RetentionDays":                 "30",
		"AuditLogMaxSize":               "10",
		"AuditLogMaxBackups":            "5",
		"AuditLogCompress":              "true",
		"AuditLogDailyRotation":         "local",
		"AuditLogSync":                  "every",
		"AuditLogFailure":               "open",
		"AuditLogSyncInterval":          "250ms",
		"AuditLogIntegrity":             "true",
		"AuditLogKeyFile":               "/etc/audit/key",
		"Audit Log Checkpoint Interval": "1m30s",
	})
	require.NoError(t, err)
	require.Equal(t, Config{
		Module:             "AgentServer",
		EventMask:          PresenceEvents | ReadEvents,
		Formatter:          "json",
		AuditLogPath:       "/var/log/audit",
		LogPath:            "/var/log/trace",
		Retention:          30 * 24 * time.Hour,
		MaxSize:            10 << 20,
		MaxBackups:         5,
		Compress:           true,
		Daily:              DailyLocal,
		Sync:               SyncEveryEvent,
		Failure:            FailOpen,
		SyncInterval:       250 * time.Millisecond,
		Integrity:          true,
		IntegrityKeyFile:   "/etc/audit/key",
		CheckpointInterval: 90 * time.Second,
	}, cfg)

	for _, days := range []string{"7", "7d", "7 days", " 7 Day "} {
		cfg, err = ConfigFromParams("CEMServer", map[string]string{"expire": days})
		require.NoError(t, err, days)
		require.Equal(t, 7*24*time.Hour, cfg.Retention, days)
	}
	var p SyncPolicy
	require.NoError(t, p.UnmarshalText([]byte("Write-Through")))
	require.Equal(t, SyncWriteThrough, p)
	require.NoError(t, p.UnmarshalText([]byte("every-event")))
	require.Equal(t, SyncEveryEvent, p)

	cfg, err = ConfigFromParams("CEMServer", map[string]string{"logpath": "logs", "Retention": "7"})
	require.NoError(t, err)
	require.Equal(t, "logs", cfg.LogPath)
	require.Equal(t, 7*24*time.Hour, cfg.Retention)
	require.Equal(t, Mask(0), cfg.EventMask, "zero mask means the default")

	cfg, err = ConfigFromParams("BatchJobServer", nil)
	require.NoError(t, err)
	require.Equal(t, Config{Module: "BatchJobServer"}, cfg)
}

func TestConfigFromParamsErrors(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]string
		wantErr string
	}{
		{"unknown parameter", map[string]string{"AuditLevel": "3"}, `"AuditLevel"`},
		{"bad mask", map[string]string{"AuditEventMask": "presence+nope"}, `AuditEventMask="presence+nope"`},
		{"unknown formatter", map[string]string{"AuditLogFormatter": "xml"}, `AuditLogFormatter="xml"`},
		{"negative retention", map[string]string{"RetentionDays": "-1"}, "RetentionDays"},
		{"retention not a number", map[string]string{"RetentionDays": "7 weeks"}, "whole number"},
		{"bad bool", map[string]string{"AuditLogCompress": "maybe"}, "AuditLogCompress"},
		{"bad sync", map[string]string{"AuditLogSync": "sometimes"}, "write, interval, every"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConfigFromParams("AgentServer", tt.params)
			require.ErrorIs(t, err, ErrBadConfig)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestEnumText(t *testing.T) {
	for _, p := range []SyncPolicy{SyncWriteThrough, SyncInterval, SyncEveryEvent} {
		b, err := p.MarshalText()
		require.NoError(t, err)
		var q SyncPolicy
		require.NoError(t, q.UnmarshalText(b))
		require.Equal(t, p, q)
	}
	for _, p := range []FailurePolicy{FailClosed, FailOpen} {
		var q FailurePolicy
		require.NoError(t, q.UnmarshalText([]byte(p.String())))
		require.Equal(t, p, q)
	}
	for _, d := range []Daily{DailyUTC, DailyLocal, DailyOff} {
		var q Daily
		require.NoError(t, q.UnmarshalText([]byte(d.String())))
		require.Equal(t, d, q)
	}
	_, err := SyncPolicy(9).MarshalText()
	require.ErrorIs(t, err, ErrBadConfig)
}
