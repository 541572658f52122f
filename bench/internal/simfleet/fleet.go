package simfleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/api"
)

// WriteFleet writes files (fleet.yaml, roles/tester.yaml, …) and a host file per simulated host pointing at it into
// dir, commits them and returns HEAD.
func WriteFleet(dir string, files map[string]string, hosts []*Host) (string, error) {
	all := map[string]string{}
	for name, text := range files {
		all[name] = text
	}
	for _, h := range hosts {
		all["hosts/"+h.Name+".yaml"] = fmt.Sprintf("role: tester\naddress: 127.0.0.1\nagent: http://127.0.0.1:%d\n", h.Port())
	}
	for name, text := range all {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	return strings.TrimSpace(string(out)), err
}

// Prometheus is Debian's prometheus, running for a benchmark.
type Prometheus struct {
	URL string
	cmd *exec.Cmd
	end context.CancelFunc
}

// StartPrometheus runs Debian's prometheus on listen, configured by the herofleet binary's `prometheus
// config|targets|rules` of the fleet in dir with the scrape interval given, and waits until it has scraped all n
// hosts.
func StartPrometheus(bin, work, dir, listen string, n int, scrape time.Duration) (*Prometheus, error) {
	pdir := filepath.Join(work, "prometheus")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return nil, err
	}
	targets, rules := filepath.Join(pdir, "targets.json"), filepath.Join(pdir, "rules.yml")
	for file, args := range map[string][]string{
		filepath.Join(pdir, "prometheus.yml"): {"prometheus", "config", dir, "--targets-file", targets, "--rules-file", rules, "--scrape-interval", scrape.String()},
		targets:                               {"prometheus", "targets", dir},
		rules:                                 {"prometheus", "rules"},
	} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			return nil, fmt.Errorf("herofleet %v: %w", args, err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "prometheus", "--config.file="+filepath.Join(pdir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(pdir, "data"), "--web.listen-address="+listen, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // it dies with a test binary killed by a timeout
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	p := &Prometheus{URL: "http://" + listen, cmd: cmd, end: cancel}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if got, err := p.Scalar("count(" + api.SeriesHostInfo + ")"); err == nil && got == float64(n) {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("prometheus never scraped all %d hosts", n)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Scalar is the value of a query whose answer is one sample.
func (p *Prometheus) Scalar(query string) (float64, error) {
	resp, err := http.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var a struct {
		Data struct{ Result []struct{ Value [2]any } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return 0, err
	}
	if len(a.Data.Result) != 1 {
		return 0, fmt.Errorf("%s: %d samples", query, len(a.Data.Result))
	}
	var v float64
	_, err = fmt.Sscan(fmt.Sprint(a.Data.Result[0].Value[1]), &v)
	return v, err
}

// Pid is the Prometheus process.
func (p *Prometheus) Pid() int { return p.cmd.Process.Pid }

// Stop ends it.
func (p *Prometheus) Stop() { p.end(); _ = p.cmd.Wait() }

// Loadavg is the machine's load average over 1, 5 and 15 minutes.
func Loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
