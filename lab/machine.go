package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Machine is one Debian machine booted with systemd-nspawn: systemd is its PID 1, host0 its link to the bridge.
type Machine struct {
	Name, Role string
	Addr       string // its ULA address, without brackets
	Root       string // its root filesystem (a copy of the golden image)
	Console    string // the console output of every boot, appended

	mu       sync.Mutex
	cmd      *exec.Cmd     // the running systemd-nspawn
	done     chan struct{} // closed when the machine is off and will not be started again
	stopping bool          // an exit now is a power-off, not a reboot
	boots    int
	pidNS    []string // the PID namespaces the machine has had (to prove nothing is left in them)
	exit     error
}

// NewMachine makes a machine from the golden image at golden: its root is a copy under dir.
func NewMachine(ctx context.Context, golden, dir, name, role, addr string) (*Machine, error) {
	root := filepath.Join(dir, name)
	if err := run(ctx, "cp", "-a", golden, root); err != nil {
		return nil, err
	}
	return &Machine{Name: name, Role: role, Addr: addr, Root: root, Console: filepath.Join(dir, name+".console")}, nil
}

// Seed writes the machine's NoCloud seed: its address and its user data (a script run once, at first boot).
func (m *Machine) Seed(userData string) error { return writeSeed(m.Root, m.Name, m.Addr, userData) }

// writeSeed writes a NoCloud seed into the root filesystem at root.
func writeSeed(root, name, addr, userData string) error {
	seed := filepath.Join(root, "var/lib/cloud/seed/nocloud")
	if err := os.MkdirAll(seed, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(seed, "meta-data"), []byte("instance-id: lab-"+name+"\nlocal-hostname: "+name+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(seed, "network-config"), []byte("address "+addr+"/64\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(seed, "user-data"), []byte(userData), 0o700)
}

// Boot starts the machine. When systemd inside reboots (systemd-nspawn exits 133) it is started again at once, as
// systemd-nspawn@.service does with RestartForceExitStatus=133; any other exit leaves it off.
func (m *Machine) Boot() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return fmt.Errorf("%s is running", m.Name)
	}
	m.stopping = false
	m.done = make(chan struct{})
	return m.startLocked()
}

func (m *Machine) startLocked() error {
	console, err := os.OpenFile(m.Console, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(console, "\n==== lab: boot %d of %s at %s\n", m.boots+1, m.Name, time.Now().UTC().Format(time.RFC3339))
	cmd := exec.Command("systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--boot",
		"--directory="+m.Root, "--machine="+m.Name, "--network-bridge="+Bridge, "--console=passive")
	cmd.Stdout, cmd.Stderr = console, console
	// If the lab dies, systemd-nspawn is told to power the machine off (SIGTERM is its orderly shutdown).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		console.Close()
		return fmt.Errorf("boot %s: %w", m.Name, err)
	}
	m.cmd = cmd
	m.boots++
	done := m.done
	go func() {
		err := cmd.Wait()
		console.Close()
		m.mu.Lock()
		defer m.mu.Unlock()
		m.cmd = nil
		var ee *exec.ExitError
		if !m.stopping && errors.As(err, &ee) && ee.ExitCode() == 133 {
			if err := m.startLocked(); err == nil {
				return
			}
		}
		m.exit = err
		close(done)
	}()
	return nil
}

// Boots counts the machine's boots (a reboot is one more).
func (m *Machine) Boots() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.boots
}

// PID1 is the host's pid of the machine's systemd, once systemd-nspawn has started it.
func (m *Machine) PID1(ctx context.Context) (int, error) {
	for {
		m.mu.Lock()
		cmd := m.cmd
		m.mu.Unlock()
		if cmd != nil {
			// systemd-nspawn's first child may still be in the host's PID namespace (before it forks the
			// machine's init); the machine's PID 1 is the one in a namespace of its own.
			if pid, ok := childOf(cmd.Process.Pid); ok && ownPIDNS(pid) {
				m.notePIDNS(pid)
				return pid, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s has no PID 1: %w", m.Name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (m *Machine) notePIDNS(pid int) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.pidNS {
		if n == ns {
			return
		}
	}
	m.pidNS = append(m.pidNS, ns)
}

// ownPIDNS says whether pid lives in another PID namespace than this process.
func ownPIDNS(pid int) bool {
	self, err1 := os.Readlink("/proc/self/ns/pid")
	ns, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return err1 == nil && err2 == nil && ns != self
}

// childOf finds the first child of pid (systemd-nspawn's child is the machine's PID 1).
func childOf(pid int) (int, bool) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			if c, err := strconv.Atoi(f[0]); err == nil {
				return c, true
			}
		}
	}
	return 0, false
}

// Run runs a command inside the machine (every namespace of its PID 1, through nsenter; never a shell) and
// returns its standard output; a failure carries its standard error.
func (m *Machine) Run(ctx context.Context, args ...string) (string, error) {
	pid, err := m.PID1(ctx)
	if err != nil {
		return "", err
	}
	full := append([]string{"-t", strconv.Itoa(pid), "-a", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %s: %w: %s", m.Name, strings.Join(args, " "), err, tail(errb.Bytes(), 2048))
	}
	return out.String(), nil
}

// ReadFile reads a file of the running machine's filesystem from the host.
func (m *Machine) ReadFile(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(m.Root, filepath.Clean("/"+path)))
}

// WaitBooted waits until systemd inside says the system is running (or degraded) .
func (m *Machine) WaitBooted(ctx context.Context) error {
	var last string
	for {
		out, _ := m.Run(ctx, "systemctl", "is-system-running")
		last = strings.TrimSpace(out)
		if last == "running" || last == "degraded" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not finish booting (systemd: %q): %w", m.Name, last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PowerCut kills every process of the machine at once: SIGKILL to its PID 1 from the host (its PID namespace
// goes with it). The machine stays off until Boot.
func (m *Machine) PowerCut(ctx context.Context) error {
	pid, err := m.PID1(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.stopping = true
	done := m.done
	m.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("power cut %s: %w", m.Name, err)
	}
	return m.waitOff(ctx, done)
}

// Link cuts the machine's link to the bridge (down) or gives it back (up), on the host's side.
func (m *Machine) Link(ctx context.Context, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return run(ctx, "ip", "link", "set", m.veth(), state)
}

func (m *Machine) veth() string {
	v := "vb-" + m.Name
	if len(v) > 15 {
		v = v[:15]
	}
	return v
}

// Stop powers the machine off (systemctl poweroff inside); one that does not stop within a minute is cut.
func (m *Machine) Stop(ctx context.Context) error {
	m.mu.Lock()
	if m.cmd == nil {
		m.mu.Unlock()
		return nil
	}
	m.stopping = true
	done := m.done
	m.mu.Unlock()
	ctx1, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, _ = m.Run(ctx1, "systemctl", "--no-block", "poweroff")
	if err := m.waitOff(ctx1, done); err == nil {
		return nil
	}
	if pid, err := m.PID1(context.Background()); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	m.mu.Lock()
	if m.cmd != nil {
		_ = m.cmd.Process.Kill()
	}
	m.mu.Unlock()
	return m.waitOff(context.Background(), done)
}

func (m *Machine) waitOff(ctx context.Context, done chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s did not go off: %w", m.Name, ctx.Err())
	}
}

// Leftovers lists the host's processes still in any PID namespace the machine has had: none after Stop.
func (m *Machine) Leftovers() []int {
	m.mu.Lock()
	ns := append([]string(nil), m.pidNS...)
	m.mu.Unlock()
	var left []int
	procs, _ := filepath.Glob("/proc/[0-9]*/ns/pid")
	for _, p := range procs {
		link, err := os.Readlink(p)
		if err != nil {
			continue
		}
		for _, n := range ns {
			if link == n {
				left = append(left, pidOf(p))
			}
		}
	}
	return left
}

// sweep powers off the machines of an earlier run that did not end (their systemd-nspawn still runs with a root
// under /var/tmp/hflab*), removes their roots and the bridge: one lab runs at a time.
func sweep(ctx context.Context) {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "systemd-nspawn" {
			continue
		}
		for _, a := range args {
			if strings.HasPrefix(a, "--directory=/var/tmp/hflab") {
				if pid, ok := childOf(pidOf(c)); ok {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
	old, _ := filepath.Glob("/var/tmp/hflab*")
	for _, d := range old {
		_ = os.RemoveAll(d)
	}
	BridgeDown(ctx)
}

// pidOf is the pid in a /proc/PID/... path.
func pidOf(path string) int {
	pid, _ := strconv.Atoi(strings.Split(path, "/")[2])
	return pid
}
