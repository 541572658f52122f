package agent

import (
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/herofleet/herofleet/internal/agenttest"
)

// TestCockpitHandlerCost measures the CPU cost of one GET /api/v1/apps and one GET /api/v1/status on an agent with
// 18 running binaries and 4 catalog apps (HF_BENCH=1; the figures feed bench/cockpit/README.md).
func TestCockpitHandlerCost(t *testing.T) {
	if os.Getenv("HF_BENCH") == "" {
		t.Skip("set HF_BENCH=1 to measure")
	}
	h := newHarness(t)
	apps := map[string]string{}
	var pre, cat []string
	for i := range 10 {
		name := fmt.Sprintf("app%d", i)
		h.commitApp(name)
		bins := []string{name + "_server", name + "_web", name + "_admin"}
		apps[name] = appYAML(name, bins, nil)
		if i < 6 {
			pre = append(pre, name)
		} else {
			cat = append(cat, name)
		}
	}
	h.commitFleetOf(pre, cat, apps)
	c := h.startCockpit()
	agenttest.WaitUntil(t, 60*time.Second, "apps running", func() bool { return rowOf(c.apps(), "app5_admin").State == BinRunning })
	mux := NewAPI(c.a, testToken).Mux
	for _, path := range []string{"/api/v1/apps", "/api/v1/apps?fresh=1", "/api/v1/status"} {
		req := httptest.NewRequest("GET", path, nil)
		var size int
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, req)
				size = w.Body.Len()
			}
		})
		t.Logf("%-22s %s %s  (%d bytes)", path, r.String(), r.MemString(), size)
	}
}
