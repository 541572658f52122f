package supervise

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Identity tells one process apart from every other that had or will have its pid: the pid, when it started
// (field 22 of /proc/PID/stat, clock ticks after boot) in which boot (the kernel's boot id: a reboot never
// matches), and the executable it runs (/proc/PID/exe: its path and the dev/inode of the file).
type Identity struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start_ticks"`
	Boot  string `json:"boot_id"`
	Exe   string `json:"exe"`
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
}

// Run is one run of a binary as a restarted agent needs it to adopt the process (see Supervisor.Adopt): who the
// process is, and the spec it was started from.
type Run struct {
	Identity
	Spec string `json:"spec"` // SpecHash of the Spec it was started from
}

// SpecHash is a digest of everything a binary is started with: a run is adopted only for the very spec it was
// started from. It digests Spec's JSON, so a field added to Spec changes every digest (an agent of that version
// starts each binary afresh once) unless it is tagged omitempty.
func SpecHash(s Spec) string {
	b, _ := json.Marshal(s) // a struct of strings: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Identify reads the identity of the live process pid. It fails for a process that is gone, a zombie, or not
// readable (another user's).
func Identify(pid int) (Identity, error) {
	id := Identity{PID: pid}
	boot, err := bootID()
	if err != nil {
		return id, err
	}
	id.Boot = boot
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return id, fmt.Errorf("pid %d: %w", pid, err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[i+1:]) // from field 3 (state) on
	if i < 0 || len(fields) < 20 {
		return id, fmt.Errorf("pid %d: unreadable /proc stat", pid)
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return id, fmt.Errorf("pid %d has exited", pid)
	}
	if id.Start, err = strconv.ParseUint(fields[19], 10, 64); err != nil { // field 22
		return id, fmt.Errorf("pid %d: start time: %w", pid, err)
	}
	exe := "/proc/" + strconv.Itoa(pid) + "/exe"
	if id.Exe, err = os.Readlink(exe); err != nil {
		return id, fmt.Errorf("pid %d: executable: %w", pid, err)
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return id, fmt.Errorf("pid %d: executable: %w", pid, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return id, errors.New("no inode of an executable on this system")
	}
	id.Dev, id.Ino = st.Dev, st.Ino
	return id, nil
}

var bootOnce = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
})

func bootID() (string, error) { return bootOnce() }

// startedAt is the wall-clock time a process of this boot started, from its start in clock ticks after boot
// (USER_HZ, 100 on Linux) and the boot time in /proc/stat; the zero time when it cannot be read.
func startedAt(ticks uint64) time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			btime, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}
			}
			const userHZ = 100
			return time.Unix(btime, 0).Add(time.Duration(ticks) * time.Second / userHZ)
		}
	}
	return time.Time{}
}
