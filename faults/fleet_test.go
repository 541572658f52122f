package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// A click-install whose build prints 64 MiB on one line: it installs, the job's tail and the log stay bounded.
func TestBuildLine64MiB(t *testing.T) {
	fleet := strings.Replace(oneApp("unix://${sockets}/books_server.sock", ""), "preinstalled: [books]", "catalog: [books]", 1)
	p := startAgent(t, fleet, "build_env: {NOISY_BUILD: \"67108864\"}\n", "books")
	agenttest.WaitUntil(t, 30*time.Second, "the fleet applied", func() bool { st, _ := p.status(); return st.Fleet.Commit != "" })
	req, _ := http.NewRequest("POST", "http://"+p.api+"/api/v1/apps/books/install", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("install: %v %v", resp, err)
	}
	var accepted struct{ Job string }
	json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	start := time.Now()
	var job agent.Job
	var slowest time.Duration
	agenttest.WaitUntil(t, 3*time.Minute, "the install job done", func() bool {
		t0 := time.Now()
		req, _ := http.NewRequest("GET", "http://"+p.api+"/api/v1/jobs/"+accepted.Job, nil)
		req.Header.Set("Authorization", "Bearer "+p.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&job)
		if _, err := p.status(); err == nil {
			slowest = max(slowest, time.Since(t0))
		}
		return job.Phase == api.PhaseHealthy || job.Phase == api.PhaseFailed
	})
	took := time.Since(start)
	if job.Phase != api.PhaseHealthy || len(job.LogTail) > 16<<10 {
		t.Fatalf("job %s, log_tail %d bytes", job.Phase, len(job.LogTail))
	}
	var logBytes int64
	logs, _ := filepath.Glob(filepath.Join(p.dir, "builds", "books", "*.log*"))
	for _, l := range logs {
		if st, err := os.Stat(l); err == nil {
			logBytes += st.Size()
		}
	}
	record(Row{
		Fault:    "a 64 MiB build line",
		Injected: "a click-install whose build prints 64 MiB without a newline",
		Did:      "installed the app; kept the newest 16 KiB as the job's log_tail and at most 8 MiB (+ one rotated part) of build log",
		Figure:   fmt.Sprintf("installed in %s; log_tail %d B; build log on disk %.1f MiB; slowest job+status read %s; peak RSS %s", took.Round(time.Millisecond), len(job.LogTail), float64(logBytes)/(1<<20), slowest.Round(time.Millisecond), p.peakRSS()),
		Lost:     "the middle of the output (by design: the newest part is kept)",
	})
}
