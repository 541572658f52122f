package fleetview

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/fleet"
)

// DirectOptions bound how the agents are asked.
type DirectOptions struct {
	Concurrency int           // agents asked at once (32)
	Timeout     time.Duration // for one agent's answer (5s)
	SyncPeriod  time.Duration // the fleet's sync period, for staleness
	Client      *http.Client  // nil: a client of its own
}

// maxStatus bounds one agent's status answer.
const maxStatus = 8 << 20

// Direct asks every host of the fleet's host files for its status at its agent URL (GET /api/v1/status on the
// agent's metrics_listen), at most Concurrency at once, and judges each against head. A host that does not answer
// within Timeout is stale.
func Direct(ctx context.Context, f *fleet.Fleet, head string, o DirectOptions) Report {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, ResponseHeaderTimeout: o.Timeout}}
		defer client.CloseIdleConnections()
	}
	names := make([]string, 0, len(f.Hosts))
	for name := range f.Hosts {
		names = append(names, name)
	}
	slices.Sort(names)
	rows := make([]HostRow, len(names))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Concurrency, len(names)) {
		wg.Go(func() {
			for i := range work {
				rows[i] = askHost(ctx, client, names[i], f.Hosts[names[i]], head, o)
			}
		})
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	sortRows(rows)
	return Report{Fleet: f.Meta.Name, Head: head, Source: "agents", At: time.Now().UTC(), Hosts: rows}
}

// askHost fetches and judges one host.
func askHost(ctx context.Context, client *http.Client, name string, h *fleet.Host, head string, o DirectOptions) HostRow {
	url := fleet.AgentURL(name, h)
	row := HostRow{Host: name, Role: h.Role, Agent: url, Problems: []agent.Problem{}}
	st, err := fetchStatus(ctx, client, url, o.Timeout)
	if err != nil {
		row.State, row.Stale = StateStale, err.Error()
		return row
	}
	if st.Role != "" {
		row.Role = st.Role
	}
	v := st.Verdict()
	row.Commit, row.OnHead, row.State = st.Fleet.Commit, st.Fleet.Commit == head && head != "", string(st.Fleet.State)
	row.Healthy, row.Expected, row.Running, row.Problems = st.Healthy(), v.Expected, v.Running, v.Problems
	row.LastSync = st.Fleet.LastSync
	row.markStale(time.Now(), o.SyncPeriod)
	return row
}

func fetchStatus(ctx context.Context, client *http.Client, base string, timeout time.Duration) (agent.Status, error) {
	var st agent.Status
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return st, fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("no status: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatus)).Decode(&st); err != nil {
		return st, fmt.Errorf("unreadable status: %w", err)
	}
	return st, nil
}
