package faults

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

var (
	testapp   string // the test app (agent/testdata/testapp)
	herofleet string // the herofleet binary under test
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("/tmp", "hffaults")
	if err != nil {
		panic(err)
	}
	testapp, err = agenttest.BuildTestapp(dir)
	if err == nil {
		herofleet = filepath.Join(dir, "herofleet")
		// the seed-git plugin beside herofleet, where the agent finds it (plugins.Dirs)
		if out, e := exec.Command("go", "build", "-o", dir+"/", "../cmd/herofleet", "../cmd/herofleet-plugin-seed-git").CombinedOutput(); e != nil {
			err = fmt.Errorf("build herofleet: %v\n%s", e, out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if doc := os.Getenv("FAULTS_DOC"); doc != "" && code == 0 {
		if err := writeDoc(doc); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// slow skips a row outside `make faults`.
func slow(t *testing.T) {
	if os.Getenv("FAULTS") != "all" {
		t.Skip("slow fault: run by make faults")
	}
}

// Row is one line of docs/faults.md.
type Row struct {
	Fault, Injected, Did, Figure, Lost string
}

var (
	rowsMu sync.Mutex
	rows   []Row
)

func record(r Row) {
	rowsMu.Lock()
	defer rowsMu.Unlock()
	rows = append(rows, r)
}

// proc is an agent process: `herofleet agent` on a forge, its API on a free loopback port.
type proc struct {
	t     *testing.T
	forge *agenttest.Forge
	dir   string
	api   string
	cmd   *exec.Cmd
	token string
}

// startAgent commits fleet and starts an agent process whose config is the harness's plus extra lines.
func startAgent(t *testing.T, fleet string, extra string, apps ...string) *proc {
	t.Helper()
	return startAgentEdited(t, fleet, func(_ *proc, cfg string) string { return cfg + extra }, apps...)
}

// startAgentEdited is startAgent with the config text rewritten by edit (timeouts, rewrites) before it is written.
func startAgentEdited(t *testing.T, fleet string, edit func(p *proc, cfg string) string, apps ...string) *proc {
	t.Helper()
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	for _, a := range apps {
		forge.CommitApp(a)
	}
	forge.CommitFleet(fleet)
	p := &proc{t: t, forge: forge, dir: agenttest.AgentDir(t), token: "faults-token"}
	p.api = "127.0.0.1:" + strconv.Itoa(agenttest.FreePort(t))
	os.WriteFile(filepath.Join(p.dir, "token"), []byte(p.token+"\n"), 0o600)
	cfg := edit(p, agenttest.AgentConfig(p.dir, forge)+fmt.Sprintf("listen: %s\ntoken_file: %s\n", p.api, filepath.Join(p.dir, "token")))
	os.WriteFile(filepath.Join(p.dir, "agent.yaml"), []byte(cfg), 0o600)
	p.start()
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.cmd = exec.Command(herofleet, "agent", "--config", filepath.Join(p.dir, "agent.yaml"))
	logf, _ := os.OpenFile(filepath.Join(p.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	cmd := p.cmd
	p.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	agenttest.WaitUntil(p.t, 30*time.Second, "the agent's API", func() bool { _, err := p.status(); return err == nil })
}

func (p *proc) status() (agent.Status, error) {
	var st agent.Status
	resp, err := http.Get("http://" + p.api + "/api/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// app is one app's status (zero when the status cannot be read).
func (p *proc) app(name string) agent.AppStatus {
	st, _ := p.status()
	for _, a := range st.Apps {
		if a.Name == name {
			return a
		}
	}
	return agent.AppStatus{}
}

// binary is one binary's status.
func (p *proc) binary(app, bin string) agent.BinaryStatus {
	for _, b := range p.app(app).Binaries {
		if b.Name == bin {
			return b
		}
	}
	return agent.BinaryStatus{}
}

func (p *proc) waitRunning(app, bin string, timeout time.Duration) agent.BinaryStatus {
	p.t.Helper()
	var b agent.BinaryStatus
	agenttest.WaitUntil(p.t, timeout, bin+" running", func() bool {
		b = p.binary(app, bin)
		return b.State == api.BinRunning && b.PID != 0
	})
	return b
}

// peakRSS is the agent's peak resident memory (VmHWM), read from /proc: never from the agent itself.
func (p *proc) peakRSS() string {
	kb := p.peakKB()
	if kb == 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

// peakKB is the agent's VmHWM in kB (0 when /proc cannot tell).
func (p *proc) peakKB() int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == "VmHWM" {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}

func dial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }

// writeDoc writes the recorded rows as docs/faults.md.
func writeDoc(path string) error {
	var b strings.Builder
	b.WriteString("# Faults the agent survives\n\n")
	b.WriteString("Written by `make faults` (package faults): each row injected one fault into a real agent process and real\n")
	b.WriteString("binaries on a loopback forge. Memory is the agent's peak RSS (VmHWM) read from /proc. Figures are from one\n")
	b.WriteString("run on a shared 2-core machine: times include its load.\n\n")
	b.WriteString("| fault | injected | what the agent did | figure | lost |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Fault, r.Injected, r.Did, r.Figure, r.Lost)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
