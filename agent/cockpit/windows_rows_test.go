package cockpit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
)

// A binary waiting for a maintenance window is a row in state waiting with until (product.md, cockpit states) and
// the reason naming the pending change.
func TestWaitingRowCarriesUntil(t *testing.T) {
	until := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	st := agent.Status{Apps: []agent.AppStatus{{Name: "books", State: api.AppInstalled, Binaries: []agent.BinaryStatus{{
		Name: "books_server", Kind: "server", State: api.BinWaiting, PID: 42, Until: until,
		Reason: "restart waits for the maintenance window at 2026-03-10T02:00:00Z: binary books_server: args changed",
	}}}}}
	body, err := json.Marshal(AppsOf(st))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 1 {
		t.Fatalf("rows: %s", body)
	}
	r := got.Rows[0]
	if r["state"] != "waiting" || r["until"] != "2026-03-10T02:00:00Z" || !strings.Contains(r["reason"].(string), "args changed") {
		t.Fatalf("waiting row: %s", body)
	}
}
