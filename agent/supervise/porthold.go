package supervise

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Holder is a process that listens on a TCP port, as /proc shows it.
type Holder struct {
	PID     int    // 0 when the socket's owner is not visible here (another user's process)
	Command string // its command line, bounded
	Marked  bool   // it carries an agent's marker (this one's or another's): herofleet started it
}

// String says who holds the port for a person: "pid 4242 (python3 -m http.server 8080), not started by herofleet".
func (h Holder) String() string {
	switch {
	case h.PID == 0:
		return "a process this agent cannot see (another user's)"
	case h.Marked:
		return fmt.Sprintf("pid %d (%s), started by herofleet", h.PID, h.Command)
	}
	return fmt.Sprintf("pid %d (%s), not started by herofleet", h.PID, h.Command)
}

// PortHolder finds the process listening on the TCP port of addr (host:port), from /proc/net/tcp and tcp6 and
// the processes' fds. It is made for a binary that could not start: its cost (a walk of /proc) is paid once per
// exit, not per poll.
func PortHolder(addr string) (Holder, bool) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return Holder{}, false
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return Holder{}, false
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningInodes(f, uint16(port), inodes)
	}
	if len(inodes) == 0 {
		return Holder{}, false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return Holder{}, true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir("/proc/" + e.Name() + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink("/proc/" + e.Name() + "/fd/" + fd.Name())
			if err != nil || !strings.HasPrefix(link, "socket:[") || !inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				continue
			}
			return Holder{PID: pid, Command: commandOf(pid), Marked: marked(pid)}, true
		}
	}
	return Holder{}, true
}

// listeningInodes adds the socket inodes of /proc/net/tcp{,6} in state LISTEN (0A) on port.
func listeningInodes(path string, port uint16, into map[string]bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	want := fmt.Sprintf(":%04X", port)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], want) {
			continue
		}
		into[fields[9]] = true
	}
}

// commandOf is a process's command line, NULs as spaces, at most 120 bytes.
func commandOf(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return "?"
	}
	b = bytes.TrimRight(b, "\x00")
	b = bytes.ReplaceAll(b, []byte{0}, []byte{' '})
	if len(b) > 120 {
		b = append(b[:117], "..."...)
	}
	return strings.ToValidUTF8(string(b), "?")
}

// marked reports whether a process carries an agent's marker.
func marked(pid int) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.HasPrefix(kv, []byte(MarkerVar+"=")) {
			return true
		}
	}
	return false
}
