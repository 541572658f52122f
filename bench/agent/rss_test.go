package agentbench

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// BenchmarkIdleRSS runs an agent process for the example fleet's tester role (5 apps, 10 binaries), waits until
// it converged, lets it idle, and reports its VmRSS and RssAnon. It builds every app (demo sources), so it takes
// as long as `herofleet demo` does.
func BenchmarkIdleRSS(b *testing.B) {
	g, err := gitserver.Start(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer g.Stop()
	fleetURL, err := demo.Publish(g, examples.Hero())
	if err != nil {
		b.Fatal(err)
	}
	dir, _ := os.MkdirTemp("/tmp", "hfr")
	defer os.RemoveAll(dir)
	defer supervise.KillMarked(supervise.Marker(dir))
	for _, p := range []string{"seed-git", "config-file"} { // the hooks of the example fleet, as make build ships them
		out := filepath.Join(dir, "plugins", "herofleet-plugin-"+p)
		if o, err := exec.Command("go", "build", "-o", out, "../../cmd/herofleet-plugin-"+p).CombinedOutput(); err != nil {
			b.Fatalf("build plugin %s: %v\n%s", p, err, o)
		}
	}
	hero, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		b.Fatal(err)
	}
	if err := demo.WriteSecrets(hero, filepath.Join(dir, "secrets")); err != nil { // the config-file hooks' secrets
		b.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	listen := ln.Addr().String()
	ln.Close()
	env, _ := json.Marshal(demo.GoBuildEnv(dir))
	cfg := fmt.Sprintf("fleet: {repo: %q}\nhost: bench-tester\nrole: tester\naddress: 127.0.0.1\ndir: %s\nlisten: %s\nrewrite: {%q: %q}\npath: %q\nbuild_env: %s\n",
		fleetURL, dir, listen, demo.Forge, g.URL(), demo.BuildPath(), env)
	cfgPath := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "HF_BENCH_AGENT_CONFIG="+cfgPath)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Minute)
	for !converged("http://" + listen) {
		if time.Now().After(deadline) {
			resp, err := http.Get("http://" + listen + "/api/v1/status")
			if err == nil {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				b.Logf("last status: %s", body)
			}
			b.Fatal("the agent did not converge on the example fleet")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(5 * time.Second) // idle: measured, not synchronised on
	rss, anon := procStatus(cmd.Process.Pid, "VmRSS"), procStatus(cmd.Process.Pid, "RssAnon")
	b.ReportMetric(float64(rss)/1024, "VmRSS-MiB")
	b.ReportMetric(float64(anon)/1024, "RssAnon-MiB")
}

func converged(agentURL string) bool {
	resp, err := http.Get(agentURL + "/api/v1/status")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st agent.Status
	if json.NewDecoder(resp.Body).Decode(&st) != nil || st.Fleet.Commit == "" {
		return false
	}
	for _, a := range st.Apps {
		if a.Offered {
			continue
		}
		if a.State != api.AppInstalled {
			return false
		}
		for _, bin := range a.Binaries {
			if bin.State != api.BinRunning {
				return false
			}
		}
	}
	return true
}

// procStatus reads a "Key:   123 kB" line of /proc/<pid>/status, in KiB.
func procStatus(pid int, key string) int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
