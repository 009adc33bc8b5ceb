package redact

import "testing"

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"tcp://127.0.0.1:514", "tcp://127.0.0.1:514"},
		{"tcp://u:p@h:514", "tcp://xxxxx@h:514"},
		{"tcp://token@h:514?window=1", "tcp://xxxxx@h:514?window=1"},
		{"tcp://u:p@x@h:bad/p@q", "tcp://xxxxx@h:bad/p@q"},
		{"tls://h:1?ca=/a@b", "tls://h:1?ca=/a@b"},
		{"h@x:514", "h@x:514"},
		{"relp://h:1?window=2&password=s3cret&x=1", "relp://h:1?window=2&password=xxxxx&x=1"},
		{"kafka://user:pw@b1:9092,b2:9092/topic?PASSWORD=p", "kafka://xxxxx@b1:9092,b2:9092/topic?PASSWORD=xxxxx"},
	} {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
