module github.com/auditkit/audit

go 1.26
