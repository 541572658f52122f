package agent

import (
	"encoding/json"
	"testing"
	"time"
)

// The fleet object carries every field of the contract: {commit, head, applied_at, last_sync, state, error}.
func TestFleetStatusJSONHasEveryField(t *testing.T) {
	fresh, _ := json.Marshal(FleetStatus{State: "syncing"})
	if want := `{"commit":"","head":"","applied_at":null,"last_sync":null,"state":"syncing","error":""}`; string(fresh) != want {
		t.Errorf("fresh agent: %s\nwant %s", fresh, want)
	}
	at := time.Date(2026, 11, 27, 3, 0, 0, 0, time.FixedZone("CET", 3600))
	b, _ := json.Marshal(FleetStatus{Commit: "c", Head: "h", AppliedAt: at, LastSync: at, State: "ok"})
	var back FleetStatus
	if err := json.Unmarshal(b, &back); err != nil || !back.AppliedAt.Equal(at) || back.LastSync.Location() != time.UTC {
		t.Errorf("round trip of %s: %+v %v", b, back, err)
	}
}
