package fleetview

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
)

func TestWriteTextProblemsFirstAligned(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	head := "5d6e7f8a9b0c1d2e3f405d6e7f8a9b0c1d2e3f40"
	rows := []HostRow{
		{Host: "tester-01", Role: "tester", Commit: head, OnHead: true, State: "ok", Healthy: true, Expected: 5, Running: 5, LastSync: now.Add(-20 * time.Second), Version: "v0.5.0"},
		{Host: "tester-02", Role: "tester", Commit: "1a2b3c4d5e6f", State: "ok", Healthy: true, Expected: 5, Running: 5, LastSync: now.Add(-3 * time.Minute), Version: "v0.4.1"},
		{Host: "tester-07", Role: "tester", Commit: head, OnHead: true, State: "ok", Expected: 5, Running: 4, LastSync: now.Add(-time.Minute),
			Problems: []agent.Problem{{App: "books", Binary: "hero_books_web", State: "crashloop", Reason: "exited 1\nthree times"}}},
		{Host: "tester-10", Role: "tester", State: StateStale, Stale: "no answer: connection refused"},
	}
	sortRows(rows)
	r := Report{Fleet: "hero", Head: head, Source: "agents", At: now, Hosts: rows}
	if r.OK() {
		t.Fatal("a fleet with a stale host is not OK")
	}
	var b bytes.Buffer
	if err := WriteText(&b, r, false); err != nil {
		t.Fatal(err)
	}
	want := `fleet hero at HEAD 5d6e7f8a9b0c, from agents

HOST       ROLE    COMMIT        ON HEAD  STATE  APPS  LAST SYNC  AGENT   
tester-10  tester  -             no       stale  -     -          -       
tester-07  tester  5d6e7f8a9b0c  yes      ok     4/5   1m         -       
tester-02  tester  1a2b3c4d5e6f  no       ok     5/5   3m         v0.4.1  
tester-01  tester  5d6e7f8a9b0c  yes      ok     5/5   20s        v0.5.0  

not fine:
  tester-10  (agent)               stale      no answer: connection refused
  tester-07  books/hero_books_web  crashloop  exited 1 three times

4 hosts: 1 fine, 1 behind HEAD, 1 not healthy, 1 stale
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteText(&b, r, true); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(b.String(), "\n")[2:7] {
		if !strings.HasPrefix(line, "\x1b[") {
			t.Errorf("coloured line %d lacks its colour: %q", i, line)
		}
	}
	fine := Report{Hosts: rows[3:]}
	if !fine.OK() {
		t.Error("a fleet of fine hosts is OK")
	}
	if (Report{}).OK() {
		t.Error("a fleet with no host answering is not OK")
	}
}
