package fleetview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// The bounds of what one agent may answer; beyond them it "answered too much" and its row says so. An agent is
// not trusted: it is whatever listens at the address a host file names.
//
// maxStatus bounds the body. A real status is about 25 KB (a host with a dozen apps); 1 MiB leaves forty times
// that for a big host with long reasons, and keeps the bodies of 32 agents asked at once to 32 MiB.
//
// The body bound alone is not enough: an empty app object is 3 bytes of JSON but about 250 bytes decoded, so a
// 1 MiB body of them would cost some 400 MiB. The lists are bounded while they are decoded, before anything is
// allocated for the element past the bound: at most maxApps apps of at most maxBinaries binaries each (a few
// MiB decoded at worst), and maxEntries entries in each other list.
const (
	maxStatus   = 1 << 20
	maxApps     = 512 // desired apps, the catalog and leftovers of one host
	maxBinaries = 64  // of one app
	maxEntries  = 512 // refused commits, quarantined apps, catalog apps, links
)

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
	var client *http.Client
	if o.Client != nil {
		c := *o.Client // a copy: its redirect policy is set below
		client = &c
	} else {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, ResponseHeaderTimeout: o.Timeout}}
		defer client.CloseIdleConnections()
	}
	// An agent is asked at the URL its host file gives, never where it points to: a redirect is no answer.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
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
	row.LastSync, row.Version = st.Fleet.LastSync, st.AgentVersion
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
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return st, fmt.Errorf("no answer: it answered %s, a redirect (not followed)", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("no status: %s", resp.Status)
	}
	tooBig := &tooMuchError{fmt.Sprintf("a status over %d bytes", maxStatus)}
	if resp.ContentLength > maxStatus {
		return st, tooBig
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatus+1))
	if err != nil {
		return st, fmt.Errorf("no answer: %w", err)
	}
	if len(body) > maxStatus {
		return st, tooBig
	}
	return decodeStatus(body)
}

// tooMuchError is an answer over one of the bounds.
type tooMuchError struct{ what string }

func (e *tooMuchError) Error() string { return "agent answered too much: " + e.what }

// decodeStatus decodes an agent's status with every list bounded (see maxApps).
func decodeStatus(body []byte) (agent.Status, error) {
	var w struct {
		agent.Status
		Refused     boundedList[agent.Refused]    `json:"refused"`
		Quarantined boundedList[agent.Quarantine] `json:"quarantined"`
		Apps        boundedList[appWire]          `json:"apps"`
		Catalog     boundedList[string]           `json:"catalog"`
		Links       boundedList[fleet.Link]       `json:"links"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		var tooMuch *tooMuchError
		if errors.As(err, &tooMuch) {
			return agent.Status{}, tooMuch
		}
		return agent.Status{}, fmt.Errorf("unreadable status: %w", err)
	}
	st := w.Status
	st.Refused, st.Quarantined, st.Catalog, st.Links = w.Refused, w.Quarantined, w.Catalog, w.Links
	st.Apps = make([]agent.AppStatus, len(w.Apps))
	for i, a := range w.Apps {
		st.Apps[i] = a.AppStatus
		st.Apps[i].Binaries = a.Binaries
	}
	return st, nil
}

// appWire is an app of a status with its binaries bounded.
type appWire struct {
	agent.AppStatus
	Binaries boundedList[agent.BinaryStatus] `json:"binaries"`
}

// boundedList is a JSON list decoded one element at a time, refused past its bound.
type boundedList[T any] []T

func (l *boundedList[T]) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*l = nil
		return nil
	}
	bound, what := maxEntries, "entries in a list"
	switch any(*new(T)).(type) {
	case appWire:
		bound, what = maxApps, "apps"
	case agent.BinaryStatus:
		bound, what = maxBinaries, "binaries in one app"
	case agent.Refused:
		what = "refused commits"
	case agent.Quarantine:
		what = "quarantined apps"
	case string:
		what = "catalog apps"
	case fleet.Link:
		what = "links"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("%s: not a list", what)
	}
	var out []T
	for dec.More() {
		if len(out) == bound {
			return &tooMuchError{fmt.Sprintf("more than %d %s", bound, what)}
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		out = append(out, v)
	}
	*l = out
	return nil
}
