package cockpit

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// TestCockpitHandlerCost measures the CPU cost of one GET /api/v1/apps and one GET /api/v1/status on an agent with
// 18 running binaries and 4 catalog apps (HF_BENCH=1; the figures feed bench/cockpit/README.md).
func TestCockpitHandlerCost(t *testing.T) {
	if os.Getenv("HF_BENCH") == "" {
		t.Skip("set HF_BENCH=1 to measure")
	}
	h := newHarness(t)
	fleet := `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [app0, app1, app2, app3, app4, app5]
catalog: [app6, app7, app8, app9]
`
	// app0 to app9, each this file with APP replaced by its name
	const app = `
-- apps/APP.yaml --
title: APP app
source: {repo: https://forge.test/apps/APP.git, ref: main}
build: {command: [{{testapp}}, build, target/release/APP_server, target/release/APP_web, target/release/APP_admin], timeout: 1m}
binaries:
  - {name: APP_server, kind: server, path: target/release/APP_server, args: [--listen, "unix://${sockets}/APP_server.sock"], listen: "unix://${sockets}/APP_server.sock", health: /health}
  - {name: APP_web, kind: server, path: target/release/APP_web, args: [--listen, "unix://${sockets}/APP_web.sock"], listen: "unix://${sockets}/APP_web.sock", health: /health}
  - {name: APP_admin, kind: server, path: target/release/APP_admin, args: [--listen, "unix://${sockets}/APP_admin.sock"], listen: "unix://${sockets}/APP_admin.sock", health: /health}
`
	for i := range 10 {
		name := fmt.Sprintf("app%d", i)
		h.commitApp(name)
		fleet += strings.ReplaceAll(app, "APP", name)
	}
	h.commitFleet(fleet)
	c := h.startCockpit()
	agenttest.WaitUntil(t, 60*time.Second, "apps running", func() bool { return rowOf(c.apps(), "app5_admin").State == api.RowState(api.BinRunning) })
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
