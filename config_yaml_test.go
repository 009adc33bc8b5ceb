package audit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// operatorYAML is operatorFile as an operator writes it in YAML.
const operatorYAML = `
Module: AgentServer
AuditEventMask: presence+failure+read
AuditLogFormatter: json
AuditLogPath: /var/log/audit
Log Path: /var/log/trace
RetentionDays: 30
AuditLogMaxSize: "100"
auditlogmaxbackups: 7
AuditLogCompress: true
AuditLogDailyRotation: local
AuditLogSync: interval
AuditLogSyncInterval: 500ms
AuditLogFailure: open
AuditLogIntegrity: "true"
AuditLogKeyFile: /etc/audit/agent.key
AuditLogCheckpointInterval: 1m
`

// TestConfigUnmarshalYAML checks that a YAML file of parameters sets every
// field as the same file in JSON does.
func TestConfigUnmarshalYAML(t *testing.T) {
	var fromJSON, fromYAML Config
	require.NoError(t, fromJSON.UnmarshalJSON([]byte(operatorFile)))
	require.NoError(t, yaml.Unmarshal([]byte(operatorYAML), &fromYAML))
	require.Equal(t, fromJSON, fromYAML)
	require.Equal(t, "AgentServer", fromYAML.Module)
	require.Equal(t, 30*24*time.Hour, fromYAML.Retention)
	require.Equal(t, int64(100<<20), fromYAML.MaxSize)
	require.Equal(t, 500*time.Millisecond, fromYAML.SyncInterval)

	// Nested in a file of the server's own settings; null and absent
	// parameters leave the fields as they are.
	var file struct {
		Audit Config `yaml:"audit"`
		Port  int    `yaml:"port"`
	}
	var out bytes.Buffer
	file.Audit = Config{Module: "CEMServer", Output: &out, MaxBackups: 3, Compress: true}
	require.NoError(t, yaml.Unmarshal([]byte("port: 8080\naudit:\n  RetentionDays: 7d\n  AuditLogCompress: null\n  AuditLogSync: every\n"), &file))
	require.Equal(t, 8080, file.Port)
	require.Equal(t, Config{Module: "CEMServer", Output: &out, MaxBackups: 3, Compress: true,
		Retention: 7 * 24 * time.Hour, Sync: SyncEveryEvent}, file.Audit)
}

// TestConfigYAMLRoundTrip checks that MarshalYAML writes the parameters that
// UnmarshalYAML reads back to the same Config.
func TestConfigYAMLRoundTrip(t *testing.T) {
	var want Config
	require.NoError(t, want.UnmarshalJSON([]byte(operatorFile)))
	b, err := yaml.Marshal(want)
	require.NoError(t, err)
	require.Contains(t, string(b), "RetentionDays: 30\n")
	require.Contains(t, string(b), "AuditLogSyncInterval: 500ms\n")
	require.Contains(t, string(b), "AuditEventMask: presence+failure+read\n")
	var got Config
	require.NoError(t, yaml.Unmarshal(b, &got))
	require.Equal(t, want, got)

	b, err = yaml.Marshal(Config{Module: "A"})
	require.NoError(t, err)
	require.Equal(t, "Module: A\n", string(b), "zero fields are left out")

	_, err = yaml.Marshal(Config{Module: "A", Retention: time.Hour})
	require.ErrorIs(t, err, ErrBadConfig, "a Retention of part of a day has no parameter")
}

func TestConfigUnmarshalYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"- a\n- b\n", "want a YAML mapping of parameters"},
		{"AuditLogMaxSize: [1, 2]\n", `parameter "AuditLogMaxSize": invalid configuration: want a string, number or boolean`},
		{"AuditLogMaxSize: {a: 1}\n", `parameter "AuditLogMaxSize": invalid configuration: want a string, number or boolean`},
		{"Module: 12\n", `parameter "Module": invalid configuration: want a string`},
		{"RetentionDays: -1\n", `parameter RetentionDays="-1": invalid configuration: want a whole number from 0 to 36525`},
		{"AuditLogCompress: maybe\n", `parameter AuditLogCompress="maybe": invalid configuration: want true or false`},
		{"AuditLevel: 3\n", `parameter "AuditLevel": invalid configuration: unknown parameter`},
		{"RetentionDays: 30\nexpire: 31\n", "both set RetentionDays, to different values"},
	} {
		cfg := Config{Module: "Kept", MaxBackups: 2}
		err := yaml.Unmarshal([]byte(tc.doc), &cfg)
		require.ErrorIs(t, err, ErrBadConfig, tc.doc)
		require.Contains(t, err.Error(), tc.want, tc.doc)
		require.Equal(t, 1, strings.Count(err.Error(), "audit: "), err.Error())
		require.Equal(t, Config{Module: "Kept", MaxBackups: 2}, cfg, "on error the Config is unchanged")
	}
}

// TestConfigUnmarshalErrorOrder checks that of several bad parameters the
// error names the same one every time, whatever the order of the map.
func TestConfigUnmarshalErrorOrder(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		yaml bool
	}{
		{`{"AuditLogMaxSize": [1], "AuditLogMaxBackups": {}, "AuditLogCompress": [true], "RetentionDays": {}}`, false},
		{"AuditLogMaxSize: [1]\nAuditLogMaxBackups: {}\nAuditLogCompress: [true]\nRetentionDays: {}\n", true},
	} {
		seen := map[string]bool{}
		for range 50 {
			var cfg Config
			var err error
			if tc.yaml {
				err = yaml.Unmarshal([]byte(tc.doc), &cfg)
			} else {
				err = cfg.UnmarshalJSON([]byte(tc.doc))
			}
			require.ErrorIs(t, err, ErrBadConfig)
			seen[err.Error()] = true
		}
		require.Len(t, seen, 1, "errors: %v", seen)
		for msg := range seen {
			require.Contains(t, msg, `parameter "AuditLogCompress"`, "the first bad parameter by name")
		}
	}
}
