package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfigFromParamsBounds checks that a duration or size parameter out of
// range is an error naming the parameter as given, never a value that
// overflowed (213504 days is about 585 years, more nanoseconds than a
// time.Duration holds).
func TestConfigFromParamsBounds(t *testing.T) {
	tests := []struct {
		name, value string
		wantErr     string // "" for a value in range
	}{
		{"RetentionDays", "213504", "from 0 to 36525 (100 years)"},
		{"RetentionDays", "106752", "from 0 to 36525"},
		{"expire", "36526 days", "from 0 to 36525"},
		{"RetentionDays", "99999999999999999999", "from 0 to 36525"},
		{"RetentionDays", "36525", ""},
		{"AuditLogMaxSize", "1048577", "from 0 to 1048576 (1 TiB)"},
		{"AuditLogMaxSize", "9223372036854775807", "from 0 to 1048576"},
		{"AuditLogMaxSize", "1048576", ""},
		{"audit log max backups", "1048577", "from 0 to 1048576"},
		{"AuditLogMaxBackups", "1048576", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			cfg, err := ConfigFromParams("AgentServer", map[string]string{tt.name: tt.value})
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, cfg.checkBounds())
				require.GreaterOrEqual(t, cfg.Retention, time.Duration(0))
				return
			}
			require.ErrorIs(t, err, ErrBadConfig)
			require.ErrorContains(t, err, "parameter "+tt.name+"=")
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	cfg, err := ConfigFromParams("AgentServer", map[string]string{"RetentionDays": "36525"})
	require.NoError(t, err)
	require.Equal(t, MaxRetention, cfg.Retention)
}

// TestNewBounds checks the bounds of Config fields set directly.
func TestNewBounds(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"negative retention", Config{Retention: -time.Hour}, "Config.Retention"},
		{"retention past 100 years", Config{Retention: MaxRetention + time.Nanosecond}, "Config.Retention"},
		{"negative max size", Config{MaxSize: -1}, "Config.MaxSize"},
		{"max size past 1 TiB", Config{MaxSize: MaxFileSize + 1}, "Config.MaxSize"},
		{"negative max backups", Config{MaxBackups: -1}, "Config.MaxBackups"},
		{"too many backups", Config{MaxBackups: MaxBackupCount + 1}, "Config.MaxBackups"},
		{"negative sync interval", Config{SyncInterval: -time.Second}, "Config.SyncInterval"},
		{"sync interval of 1ns", Config{SyncInterval: time.Nanosecond}, "Config.SyncInterval"},
		{"sync interval of a week", Config{SyncInterval: 7 * 24 * time.Hour}, "Config.SyncInterval"},
		{"negative checkpoint interval", Config{CheckpointInterval: -time.Second}, "Config.CheckpointInterval"},
		{"checkpoint interval of 1ns", Config{CheckpointInterval: time.Nanosecond}, "Config.CheckpointInterval"},
		{"checkpoint interval of a year", Config{CheckpointInterval: 365 * 24 * time.Hour}, "Config.CheckpointInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Module, cfg.AuditLogPath = "AgentServer", t.TempDir()
			l, err := New(cfg)
			require.Nil(t, l)
			require.ErrorIs(t, err, ErrBadConfig)
			require.ErrorContains(t, err, tt.field+" ")
			require.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
		})
	}
	// The bounds themselves are accepted.
	l := newTestLogger(t, Config{Retention: MaxRetention, MaxSize: MaxFileSize, MaxBackups: MaxBackupCount,
		SyncInterval: MaxInterval, CheckpointInterval: MinInterval})
	require.NoError(t, l.Close())
}

// TestConfigFromParamsAliases checks that the result does not depend on the
// order of the map, and that two names of one parameter with different
// values are an error naming both.
func TestConfigFromParamsAliases(t *testing.T) {
	conflicts := []struct {
		params      map[string]string
		first, then string
	}{
		{map[string]string{"AuditLogPath": "/a", "auditlogpath": "/b"}, `AuditLogPath="/a"`, `auditlogpath="/b"`},
		{map[string]string{"RetentionDays": "30", "expire": "7"}, `RetentionDays="30"`, `expire="7"`},
		{map[string]string{"Log Path": "/t", "LogPath": "/u"}, `Log Path="/t"`, `LogPath="/u"`},
		{map[string]string{"AuditEventMask": "all", "auditeventmask": "presence"}, `AuditEventMask="all"`, `auditeventmask="presence"`},
	}
	for _, c := range conflicts {
		// A map's order changes from one range to the next: try many times.
		for range 50 {
			_, err := ConfigFromParams("AgentServer", c.params)
			require.ErrorIs(t, err, ErrBadConfig)
			require.ErrorContains(t, err, c.first+" and "+c.then)
			require.ErrorContains(t, err, "different values")
		}
	}
	// The same value under two names is no conflict, even spelt otherwise.
	same := map[string]string{"RetentionDays": "30", "expire": "30 days", "AuditLogPath": "/a", "auditlogpath": " /a "}
	for range 50 {
		cfg, err := ConfigFromParams("AgentServer", same)
		require.NoError(t, err)
		require.Equal(t, Config{Module: "AgentServer", AuditLogPath: "/a", Retention: 30 * 24 * time.Hour}, cfg)
	}
	// With several unknown names, the same one is reported every time.
	unknown := map[string]string{"b": "1", "a": "1", "c": "1", "AuditLogPath": "/a"}
	for range 50 {
		_, err := ConfigFromParams("AgentServer", unknown)
		require.ErrorContains(t, err, `parameter "a"`)
	}
}

// FuzzConfigFromParams checks, for any two parameters, that the result does
// not depend on the map's order and that every duration and size in an
// accepted Config is within its bounds.
func FuzzConfigFromParams(f *testing.F) {
	f.Add("RetentionDays", "213504", "expire", "30")
	f.Add("AuditLogMaxSize", "1048576", "AuditLogMaxBackups", "5")
	f.Add("AuditLogPath", "/a", "auditlogpath", "/b")
	f.Add("Log Path", "/t", "AuditEventMask", "presence+read")
	f.Add("retention", "36525 days", "LogRetentionDays", "36525d")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		params := map[string]string{n1: v1, n2: v2}
		cfg, err := ConfigFromParams("AgentServer", params)
		for range 4 {
			again, err2 := ConfigFromParams("AgentServer", params)
			require.Equal(t, err == nil, err2 == nil)
			if err != nil {
				require.Equal(t, err.Error(), err2.Error())
			} else {
				require.Equal(t, cfg.Retention, again.Retention)
				require.Equal(t, cfg.AuditLogPath, again.AuditLogPath)
				require.Equal(t, cfg.LogPath, again.LogPath)
				require.Equal(t, cfg.EventMask, again.EventMask)
			}
		}
		if err != nil {
			require.ErrorIs(t, err, ErrBadConfig)
			return
		}
		require.NoError(t, cfg.checkBounds())
	})
}
