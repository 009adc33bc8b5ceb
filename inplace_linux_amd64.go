package audit

import "syscall"

// fstatatTrap is fstatat(2), which amd64 calls newfstatat.
const fstatatTrap = syscall.SYS_NEWFSTATAT
