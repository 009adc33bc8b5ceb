module github.com/auditkit/audit

go 1.26

require (
	github.com/leodido/go-syslog/v4 v4.6.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
)
