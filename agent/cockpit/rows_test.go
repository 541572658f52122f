package cockpit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
)

// Rows carry exactly the contract's fields for their type, all present, whatever the state.
func TestRowJSONFields(t *testing.T) {
	since := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	st := agent.Status{Host: "t1", Role: "tester", Apps: []agent.AppStatus{
		{Name: "books", Title: "Hero Books", State: api.AppInstalled, Binaries: []agent.BinaryStatus{
			{Name: "books_server", Kind: "server", State: api.BinRunning, PID: 42, URL: "http://t1:9201/", Restarts: 2, Since: since},
			{Name: "books_web", Kind: "web", State: api.BinStopped, Reason: "stopped by a person"},
		}},
		{Name: "voice", State: api.AppNotInstalled, Offered: true, Binaries: []agent.BinaryStatus{{Name: "voice_server", Kind: "server"}}},
	}}
	b, err := json.Marshal(AppsOf(st))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Rows []map[string]any }
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) string {
		var k []string
		for _, name := range []string{"type", "app", "title", "binaries", "binary", "kind", "state", "reason", "job", "pid", "url", "restarts", "since", "until", "clicked", "actions"} {
			if _, ok := m[name]; ok {
				k = append(k, name)
			}
		}
		return strings.Join(k, ",")
	}
	if len(got.Rows) != 3 {
		t.Fatalf("rows %s", b)
	}
	binary := "type,app,title,binary,kind,state,reason,pid,url,restarts,since,until,clicked,actions"
	if k := keys(got.Rows[0]); k != binary || len(got.Rows[0]) != 14 || got.Rows[0]["since"] != "2026-11-27T03:00:00Z" || got.Rows[0]["pid"] != 42.0 {
		t.Errorf("running binary row %v", got.Rows[0])
	}
	if k := keys(got.Rows[1]); k != binary || got.Rows[1]["pid"] != nil || got.Rows[1]["since"] != nil || got.Rows[1]["reason"] != "stopped by a person" {
		t.Errorf("stopped binary row %v", got.Rows[1])
	}
	bundle := "type,app,title,binaries,state,reason,job,clicked,actions"
	if k := keys(got.Rows[2]); k != bundle || len(got.Rows[2]) != 9 || got.Rows[2]["actions"].([]any)[0] != "install" {
		t.Errorf("bundle row %v", got.Rows[2])
	}
}
