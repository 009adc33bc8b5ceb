package audit

import "syscall"

func init() {
	// fdatasync(2) skips the metadata that reading the data back does not
	// need (such as the modification time).
	datasyncFd = syscall.Fdatasync
}
