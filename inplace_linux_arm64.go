package audit

import "syscall"

// fstatatTrap is fstatat(2).
const fstatatTrap = syscall.SYS_FSTATAT
