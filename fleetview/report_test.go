package fleetview

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const headC = "5d6e7f8a9b0c1d2e3f405d6e7f8a9b0c1d2e3f40"

// A host whose last sync is older than three sync periods is stale, and so is one that never synced; a host already
// stale for another reason keeps that reason.
func TestMarkStale(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		row       HostRow
		period    time.Duration
		wantStale string // "" : not stale; else a part of the reason
	}{
		{name: "synced a moment ago", row: HostRow{State: "ok", LastSync: now.Add(-10 * time.Second)}, period: time.Minute},
		{name: "exactly three periods ago is not yet stale", row: HostRow{State: "ok", LastSync: now.Add(-3 * time.Minute)}, period: time.Minute},
		{name: "just over three periods", row: HostRow{State: "ok", LastSync: now.Add(-3*time.Minute - time.Second)}, period: time.Minute,
			wantStale: "its last sync is older than 3m0s"},
		{name: "the period counts: 2h ago with an hourly sync is fine", row: HostRow{State: "ok", LastSync: now.Add(-2 * time.Hour)}, period: time.Hour},
		{name: "4h ago with an hourly sync is stale", row: HostRow{State: "ok", LastSync: now.Add(-4 * time.Hour)}, period: time.Hour,
			wantStale: "older than 3h0m0s"},
		{name: "never synced", row: HostRow{State: "syncing"}, period: time.Minute, wantStale: "it has never synced"},
		{name: "an earlier reason is kept", row: HostRow{State: StateStale, Stale: "no answer: connection refused"}, period: time.Minute,
			wantStale: "no answer: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.row
			r.markStale(now, tt.period)
			if tt.wantStale == "" {
				if r.Stale != "" || r.State == StateStale {
					t.Errorf("stale %q (state %s), want not stale", r.Stale, r.State)
				}
				return
			}
			if !strings.Contains(r.Stale, tt.wantStale) || r.State != "stale" {
				t.Errorf("stale %q (state %s), want stale with %q", r.Stale, r.State, tt.wantStale)
			}
		})
	}
}

// `herofleet fleet status` exits 0 only when every host is on HEAD, healthy and not stale; a fleet with no host is
// not fine either.
func TestReportOK(t *testing.T) {
	fine := HostRow{Host: "tester-01", Commit: headC, OnHead: true, State: "ok", Healthy: true}
	behind := HostRow{Host: "tester-02", Commit: "1a2b3c4d", State: "ok", Healthy: true}
	sick := HostRow{Host: "tester-03", Commit: headC, OnHead: true, State: "ok"}
	stale := HostRow{Host: "tester-04", Commit: headC, OnHead: true, State: StateStale, Healthy: true, Stale: "it has never synced"}
	tests := []struct {
		name  string
		hosts []HostRow
		ok    bool
	}{
		{name: "every host fine", hosts: []HostRow{fine, fine}, ok: true},
		{name: "one host behind HEAD", hosts: []HostRow{fine, behind}},
		{name: "one host not healthy on HEAD", hosts: []HostRow{fine, sick}},
		{name: "one host stale though on HEAD and healthy", hosts: []HostRow{fine, stale}},
		{name: "no host at all", hosts: nil},
		{name: "no host at all (empty)", hosts: []HostRow{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Report{Head: headC, Hosts: tt.hosts}).OK(); got != tt.ok {
				t.Errorf("OK() = %v, want %v", got, tt.ok)
			}
		})
	}
}

// Problems come first: stale, then not healthy, then behind HEAD, then fine; by name within each.
func TestSortRowsProblemsFirst(t *testing.T) {
	tests := []struct {
		name string
		rows []HostRow
		want []string
	}{
		{
			name: "one of each, given fine first",
			rows: []HostRow{
				{Host: "a-fine", OnHead: true, Healthy: true},
				{Host: "b-behind", Healthy: true},
				{Host: "c-sick", OnHead: true},
				{Host: "d-stale", OnHead: true, Healthy: true, Stale: "it has never synced"},
			},
			want: []string{"d-stale", "c-sick", "b-behind", "a-fine"},
		},
		{
			name: "not healthy and behind HEAD counts as not healthy",
			rows: []HostRow{{Host: "a-behind", Healthy: true}, {Host: "b-both"}},
			want: []string{"b-both", "a-behind"},
		},
		{
			name: "by name within a rank",
			rows: []HostRow{{Host: "tester-10", Stale: "x"}, {Host: "tester-02", Stale: "y"}, {Host: "tester-07", OnHead: true, Healthy: true},
				{Host: "tester-01", OnHead: true, Healthy: true}},
			want: []string{"tester-02", "tester-10", "tester-01", "tester-07"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := slices.Clone(tt.rows)
			sortRows(rows)
			var got []string
			for _, r := range rows {
				got = append(got, r.Host)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
		})
	}
}
