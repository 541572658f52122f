package fleetview

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/fleet"
)

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Record      string
			Alert       string
			Expr        string
			For         string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

// Each alert is in the rule file with its expression, its wait and its severity; the lag follows the sync period
// and the number of periods, written as Prometheus reads a duration.
func TestRulesAlerts(t *testing.T) {
	tests := []struct {
		name string
		o    RulesOptions
		lag  string // the for: of the lagging alerts
		n    string // the periods named in the texts
	}{
		{name: "defaults: 1m, 3 periods", o: RulesOptions{}, lag: "3m", n: "3"},
		{name: "30s, 3 periods: seconds", o: RulesOptions{SyncPeriod: 30 * time.Second, Periods: 3}, lag: "90s", n: "3"},
		{name: "2m, 5 periods", o: RulesOptions{SyncPeriod: 2 * time.Minute, Periods: 5}, lag: "10m", n: "5"},
		{name: "an hourly sync", o: RulesOptions{SyncPeriod: time.Hour, Periods: 2}, lag: "120m", n: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := Rules(tt.o)
			var rf ruleFile
			if err := yaml.Unmarshal([]byte(text), &rf); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, text)
			}
			if len(rf.Groups) != 1 || rf.Groups[0].Name != "herofleet" {
				t.Fatalf("groups %+v, want one named herofleet", rf.Groups)
			}
			want := []struct{ alert, expr, forr, severity string }{
				{"HerofleetHostNotOnHead", "herofleet_fleet_head_info unless on (job, instance, commit) herofleet_fleet_applied_info unless on (job, instance) herofleet_fleet_applied_info{state=\"waiting\"}", tt.lag, "warning"},
				{"HerofleetRolloutHeld", "time() - herofleet_rollout_waiting_since_timestamp_seconds > 3600", "", "info"},
				{"HerofleetCommitRefused", `herofleet_fleet_applied_info{state="refused"} == 1`, "", "warning"},
				{"HerofleetAppQuarantined", "herofleet_app_quarantined == 1", "", "warning"},
				{"HerofleetBinaryCrashlooping", `herofleet_binary_state{state="crashloop"} == 1`, "1m", "warning"},
				{"HerofleetAgentStale", `up == 0 and on (instance, job) herofleet:agent_target or (time() - herofleet_fleet_last_sync_timestamp_seconds) > ` + tt.n +
					" * herofleet_sync_period_seconds", tt.lag, "critical"},
			}
			rules := rf.Groups[0].Rules
			// No rule names a scrape job: an operator's own job works. The agents are known by their own series,
			// remembered while Prometheus scrapes them.
			if strings.Contains(text, "job=") {
				t.Errorf("a rule selects a scrape job:\n%s", text)
			}
			if r := rules[0]; r.Record != "herofleet:agent_target" || r.Expr != "group by (instance, job, host) (herofleet_host_info) or (herofleet:agent_target and on (instance, job) up)" {
				t.Errorf("first rule: record %q expr %q, want herofleet:agent_target remembered from herofleet_host_info", r.Record, r.Expr)
			}
			rules = rules[1:]
			if len(rules) != len(want) {
				t.Fatalf("%d rules, want %d", len(rules), len(want))
			}
			for i, w := range want {
				r := rules[i]
				if r.Alert != w.alert || strings.Join(strings.Fields(r.Expr), " ") != w.expr || r.For != w.forr || r.Labels["severity"] != w.severity {
					t.Errorf("rule %d: %s %q for %q severity %q\nwant %s %q for %q severity %q", i, r.Alert, r.Expr, r.For, r.Labels["severity"],
						w.alert, w.expr, w.forr, w.severity)
				}
				if !strings.Contains(r.Annotations["summary"], "{{ $labels.instance }}") || r.Annotations["description"] == "" {
					t.Errorf("%s: its summary does not name the host, or it has no description: %v", r.Alert, r.Annotations)
				}
			}
			for _, a := range []int{0, 5} {
				if s := rules[a].Annotations["summary"]; !strings.Contains(s, tt.n+" sync periods") {
					t.Errorf("%s summary %q does not say %s sync periods", rules[a].Alert, s, tt.n)
				}
			}
		})
	}
}

// The file_sd targets: one group per host, sorted, its instance the host's name, its target the agent's host:port
// and scheme.
func TestTargets(t *testing.T) {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{
		"tester-02": {Role: "tester", Address: "10.0.0.2"},
		"tester-01": {Role: "tester"}, // no address: its name
		"admin-01":  {Role: "admin", Agent: "https://admin.example:9443/"},
		"v6-01":     {Role: "tester", Address: "4a5::7"},
	}}
	tests := []struct {
		host, target, scheme string
	}{
		{"admin-01", "admin.example:9443", "https"},
		{"tester-01", "tester-01:7072", "http"},
		{"tester-02", "10.0.0.2:7072", "http"},
		{"v6-01", "[4a5::7]:7072", "http"},
	}
	groups, err := Targets(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != len(tests) {
		t.Fatalf("%d groups, want %d", len(groups), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			g := groups[i]
			if len(g.Targets) != 1 || g.Targets[0] != tt.target || g.Labels["instance"] != tt.host || g.Labels["__scheme__"] != tt.scheme || len(g.Labels) != 2 {
				t.Errorf("group %d = %+v, want %s at %s over %s", i, g, tt.host, tt.target, tt.scheme)
			}
		})
	}
	b, err := TargetsJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 4 || !strings.HasSuffix(string(b), "]\n") {
		t.Errorf("targets JSON %s: %v", b, err)
	}
	if _, err := Targets(&fleet.Fleet{Hosts: map[string]*fleet.Host{"bad": {Agent: "http://[::1"}}}); err == nil ||
		!strings.Contains(err.Error(), "hosts/bad.yaml") {
		t.Errorf("an agent URL that does not parse: err %v, want one naming hosts/bad.yaml", err)
	}
}

// The scrape configuration: the fleet's name as an external label, the intervals, a timeout of at most 10s and
// the files it reads.
func TestConfig(t *testing.T) {
	tests := []struct {
		interval               time.Duration
		wantInterval, wantTout string
	}{
		{15 * time.Second, "15s", "10s"},
		{5 * time.Second, "5s", "5s"},
		{time.Minute, "1m", "10s"},
		{90 * time.Second, "90s", "10s"},
	}
	for _, tt := range tests {
		t.Run(tt.wantInterval, func(t *testing.T) {
			f := &fleet.Fleet{}
			f.Meta.Name = "hero"
			text := Config(f, ConfigOptions{TargetsFile: "/etc/prometheus/t.json", RulesFile: "/etc/prometheus/r.yml", ScrapeInterval: tt.interval})
			var c struct {
				Global struct {
					ScrapeInterval     string            `yaml:"scrape_interval"`
					EvaluationInterval string            `yaml:"evaluation_interval"`
					ExternalLabels     map[string]string `yaml:"external_labels"`
				}
				RuleFiles     []string `yaml:"rule_files"`
				ScrapeConfigs []struct {
					JobName       string `yaml:"job_name"`
					ScrapeTimeout string `yaml:"scrape_timeout"`
					FileSD        []struct {
						Files           []string
						RefreshInterval string `yaml:"refresh_interval"`
					} `yaml:"file_sd_configs"`
				} `yaml:"scrape_configs"`
			}
			if err := yaml.Unmarshal([]byte(text), &c); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, text)
			}
			g := c.Global
			if g.ScrapeInterval != tt.wantInterval || g.EvaluationInterval != tt.wantInterval || g.ExternalLabels["fleet"] != "hero" {
				t.Errorf("global %+v, want every %s, fleet hero", g, tt.wantInterval)
			}
			if len(c.RuleFiles) != 1 || c.RuleFiles[0] != "/etc/prometheus/r.yml" || len(c.ScrapeConfigs) != 1 {
				t.Fatalf("rule files %v, scrape configs %+v\n%s", c.RuleFiles, c.ScrapeConfigs, text)
			}
			s := c.ScrapeConfigs[0]
			if s.JobName != "herofleet" || s.ScrapeTimeout != tt.wantTout || len(s.FileSD) != 1 || len(s.FileSD[0].Files) != 1 ||
				s.FileSD[0].Files[0] != "/etc/prometheus/t.json" {
				t.Errorf("scrape config %+v, want job herofleet, timeout %s, the targets file", s, tt.wantTout)
			}
		})
	}
}
