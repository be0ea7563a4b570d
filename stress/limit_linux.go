package stress

import (
	"syscall"
	"unsafe"
)

// setFileSizeLimit sets the RLIMIT_FSIZE of process pid (prlimit(2)): its
// writes beyond limit bytes of any file fail with EFBIG, as on a full disk.
// A negative limit lifts it.
func setFileSizeLimit(pid int, limit int64) error {
	lim := syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
	if limit >= 0 {
		lim.Cur = uint64(limit)
	}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
