package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/agenttest"
)

var (
	testapp   string // the test app (agent/testdata/testapp)
	herofleet string // the herofleet binary under test
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("/tmp", "hfsec")
	if err != nil {
		panic(err)
	}
	testapp, err = agenttest.BuildTestapp(dir)
	if err == nil {
		if bin := os.Getenv("HEROFLEET_BIN"); bin != "" {
			herofleet = filepath.Join(bin, "herofleet")
			if _, e := os.Stat(herofleet); e != nil {
				err = fmt.Errorf("HEROFLEET_BIN: %v (make build)", e)
			}
		} else {
			herofleet = filepath.Join(dir, "herofleet")
			if out, e := exec.Command("go", "build", "-o", herofleet, "../cmd/herofleet").CombinedOutput(); e != nil {
				err = fmt.Errorf("build herofleet: %v\n%s", e, out)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if doc := os.Getenv("SECURITY_DOC"); doc != "" {
		if err := writeDoc(doc, code == 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// Row is one line of docs/security.md.
type Row struct {
	Attack, Sent, Did, Figure, Leaked string
	Failed                            bool // the attack worked: the row says so and its test fails
}

var (
	rowsMu sync.Mutex
	rows   []Row
)

// record keeps a row for the doc; a row whose attack worked, or that leaked anything, fails its test.
func record(t *testing.T, r Row) {
	t.Helper()
	if r.Leaked != "nothing" {
		r.Failed = true
	}
	rowsMu.Lock()
	rows = append(rows, r)
	rowsMu.Unlock()
	if r.Failed {
		t.Errorf("the attack worked: %s: %s (leaked: %s)", r.Attack, r.Did, r.Leaked)
	}
}

// writeDoc writes the recorded rows as docs/security.md.
func writeDoc(path string, passed bool) error {
	var b strings.Builder
	b.WriteString("# Attacks herofleet refuses\n\n")
	b.WriteString("Written by `make security` (package security): each row made one attack on a real herofleet: the agent\n")
	b.WriteString("binary in a process of its own on a loopback forge, the CLI run as a process, real HTTP. \"Leaked\" is what a\n")
	b.WriteString("search for the secret, token or credential found in the status JSON of both listeners (`listen` and the\n")
	b.WriteString("read-only `metrics_listen`), their `/metrics`, the agent's log, every file of the agent's dir outside its\n")
	b.WriteString("secrets dir, and the CLI's output. Memory is a process's peak RSS (VmHWM from /proc, or the CLI's rusage).\n")
	b.WriteString("Figures are from one run on a shared 2-core machine. The faults the agent survives are in [faults.md](faults.md).\n\n")
	if !passed {
		b.WriteString("**This run failed: a row below, or a test without a row, did not hold.**\n\n")
	}
	b.WriteString("| attack | what was sent | what herofleet did | figure | what leaked |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		did := r.Did
		if r.Failed {
			did = "**NOT REFUSED**: " + did
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(r.Attack), cell(r.Sent), cell(did), cell(r.Figure), cell(r.Leaked))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	s = tmpPath.ReplaceAllStringFunc(s, func(p string) string { return "/tmp/…/" + filepath.Base(p) })
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// tmpPath is a temporary file's path, which differs at every run: the doc keeps its base name.
var tmpPath = regexp.MustCompile(`/tmp/[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*`)

// proc is an agent process: `herofleet agent` on a forge, its cockpit on a free loopback port and, when asked
// for, a read-only metrics_listen and a webhook_listen.
type proc struct {
	t       *testing.T
	forge   *agenttest.Forge
	dir     string
	api     string // listen
	ro      string // metrics_listen
	hook    string // webhook_listen ("" when not configured)
	secrets string // secrets_dir
	cmd     *exec.Cmd
	token   string
}

// options of an agent process.
type options struct {
	webhookSecret string // written to webhook_secret_file; "" leaves it out
	webhookListen bool
	identity      string // identity_file; "" leaves it out
	fleetRepo     string // replaces the forge's fleet URL when not ""
	extra         string // more config lines
}

// startAgent commits fleet (a txtar archive; vars fill its placeholders beyond {{testapp}}) and starts an agent.
func startAgent(t *testing.T, fleet string, vars agenttest.Vars, o options, apps ...string) *proc {
	t.Helper()
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	for _, a := range apps {
		forge.CommitApp(a)
	}
	if fleet != "" {
		forge.CommitFleet(fleet, vars)
	}
	p := &proc{t: t, forge: forge, dir: agenttest.AgentDir(t), token: "sec-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	p.api = "127.0.0.1:" + strconv.Itoa(agenttest.FreePort(t))
	p.ro = "127.0.0.1:" + strconv.Itoa(agenttest.FreePort(t))
	p.secrets = filepath.Join(p.dir, "secrets")
	write(t, filepath.Join(p.dir, "token"), p.token+"\n", 0o600)
	cfg := agenttest.AgentConfig(p.dir, forge) + fmt.Sprintf("listen: %s\nmetrics_listen: %s\ntoken_file: %s\n", p.api, p.ro, filepath.Join(p.dir, "token"))
	if o.webhookSecret != "" {
		write(t, filepath.Join(p.dir, "webhook-secret"), o.webhookSecret+"\n", 0o600)
		cfg += "webhook_secret_file: " + filepath.Join(p.dir, "webhook-secret") + "\n"
	}
	if o.webhookListen {
		p.hook = "127.0.0.1:" + strconv.Itoa(agenttest.FreePort(t))
		cfg += "webhook_listen: " + p.hook + "\n"
	}
	if o.identity != "" {
		cfg += "identity_file: " + o.identity + "\n"
	}
	if o.fleetRepo != "" {
		cfg = strings.Replace(cfg, `repo: "https://forge.test/ops/fleet.git"`, fmt.Sprintf("repo: %q", o.fleetRepo), 1)
	}
	cfg += o.extra
	write(t, filepath.Join(p.dir, "agent.yaml"), cfg, 0o600)
	p.cmd = exec.Command(herofleet, "agent", "--config", filepath.Join(p.dir, "agent.yaml"))
	logf, err := os.OpenFile(filepath.Join(p.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := p.cmd
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	})
	agenttest.WaitUntil(t, 30*time.Second, "the agent's API", func() bool { _, err := p.status(); return err == nil })
	return p
}

func write(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// answer is one HTTP answer: its status code and body.
type answer struct {
	code int
	body string
}

var client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends one request to addr; host overrides the Host header and auth sets Authorization when not "".
func do(t *testing.T, method, addr, path, host, auth string, body io.Reader, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return answer{resp.StatusCode, string(b)}
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

// waitFleet waits until the agent has synced once and its fleet state is one of states.
func (p *proc) waitFleet(what string, cond func(agent.Status) bool) agent.Status {
	p.t.Helper()
	var st agent.Status
	agenttest.WaitUntil(p.t, 60*time.Second, what, func() bool {
		var err error
		st, err = p.status()
		return err == nil && !st.Fleet.LastSync.IsZero() && cond(st)
	})
	return st
}

// sync asks for a sync with the token and waits until the agent's last sync is newer than before.
func (p *proc) sync() agent.Status {
	p.t.Helper()
	before, _ := p.status()
	if a := do(p.t, "POST", p.api, "/api/v1/sync", "", "Bearer "+p.token, nil); a.code != http.StatusAccepted {
		p.t.Fatalf("sync: %d %s", a.code, a.body)
	}
	return p.waitFleet("a sync after the request", func(st agent.Status) bool {
		return st.Fleet.LastSync.After(before.Fleet.LastSync) && st.Fleet.State != "syncing"
	})
}

// metric is the value of a series line of the cockpit's /metrics starting with prefix (-1 when absent).
func (p *proc) metric(prefix string) float64 {
	a := do(p.t, "GET", p.api, "/metrics", "", "", nil)
	for _, line := range strings.Split(a.body, "\n") {
		if strings.HasPrefix(line, prefix) {
			f, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return f
		}
	}
	return -1
}

// peakRSS is the agent's peak resident memory (VmHWM) from /proc.
func (p *proc) peakRSS() string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == "VmHWM" {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
		}
	}
	return "?"
}

// leaks looks for each value everywhere the agent shows or keeps things, but its secrets dir: the status of the
// cockpit and of metrics_listen, both /metrics, the agent's log and every other file of its dir. It names the
// places that hold one ("" when none does).
func (p *proc) leaks(values ...string) []string {
	p.t.Helper()
	places := map[string]string{
		"cockpit status":        do(p.t, "GET", p.api, "/api/v1/status", "", "", nil).body,
		"cockpit apps":          do(p.t, "GET", p.api, "/api/v1/apps?fresh=1", "", "", nil).body,
		"cockpit metrics":       do(p.t, "GET", p.api, "/metrics", "", "", nil).body,
		"metrics_listen status": do(p.t, "GET", p.ro, "/api/v1/status", "", "", nil).body,
		"metrics_listen":        do(p.t, "GET", p.ro, "/metrics", "", "", nil).body,
	}
	_ = filepath.WalkDir(p.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && path == p.secrets {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && !testWritten[d.Name()] {
			if info, err := d.Info(); err == nil && info.Size() < 64<<20 {
				b, _ := os.ReadFile(path)
				rel, _ := filepath.Rel(p.dir, path)
				places[rel] = string(b)
			}
		}
		return nil
	})
	var found []string
	for where, text := range places {
		for _, v := range values {
			if strings.Contains(text, v) {
				found = append(found, fmt.Sprintf("%q in %s", v, where))
			}
		}
	}
	return found
}

// testWritten are the files of the agent dir the test itself wrote: the token, the config, the webhook secret.
var testWritten = map[string]bool{"token": true, "agent.yaml": true, "webhook-secret": true}

// leaked is a row's "what leaked" for the places leaks searched.
func leaked(found []string) string {
	if len(found) == 0 {
		return "nothing"
	}
	return strings.Join(found, "; ")
}

// cli runs the herofleet CLI with args (stdin from in when not nil) and returns its exit code, its output
// (stdout then stderr) and its peak RSS in KiB.
func cli(t *testing.T, in io.Reader, args ...string) (int, string, string, int64) {
	t.Helper()
	cmd := exec.Command(herofleet, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, &stderr, in
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("herofleet %s: %v", strings.Join(args, " "), err)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return code, stdout.String(), stderr.String(), rss
}

// oneLine is the first line of s that holds sub (or s's first line), trimmed, for a row.
func oneLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
