package fleetview

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
)

// Job is the scrape job of the fleet's agents in the configuration Config writes (the rules name no job).
const Job = promapi.FleetJob

// TargetGroup is one entry of a Prometheus file_sd file: one host's agent, its instance label the host's name so
// that every series and alert names the host.
type TargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// Targets lists every host of the fleet's host files, sorted by name, as file_sd target groups.
func Targets(f *fleet.Fleet) ([]TargetGroup, error) {
	names := make([]string, 0, len(f.Hosts))
	for name := range f.Hosts {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]TargetGroup, 0, len(names))
	for _, name := range names {
		u, err := url.Parse(fleet.AgentURL(name, f.Hosts[name]))
		if err != nil {
			return nil, fmt.Errorf("hosts/%s.yaml: agent: %w", name, err)
		}
		labels := map[string]string{"instance": name, "__scheme__": u.Scheme}
		out = append(out, TargetGroup{Targets: []string{u.Host}, Labels: labels})
	}
	return out, nil
}

// TargetsJSON is Targets as the file_sd file's text.
func TargetsJSON(f *fleet.Fleet) ([]byte, error) {
	groups, err := Targets(f)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(groups, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ConfigOptions say where Prometheus finds the files `herofleet prometheus targets` and `rules` write, and how
// often it scrapes.
type ConfigOptions struct {
	TargetsFile    string
	RulesFile      string
	ScrapeInterval time.Duration
}

// Config is a Prometheus configuration that scrapes every agent of the fleet through a file_sd file (so that a
// host added to the fleet is scraped once the targets file is rewritten, without a reload) and loads the rules.
func Config(f *fleet.Fleet, o ConfigOptions) string {
	iv := model(o.ScrapeInterval)
	var b strings.Builder
	fmt.Fprintf(&b, "# Prometheus configuration for the fleet %q, written by herofleet prometheus config.\n", f.Meta.Name)
	b.WriteString("# Targets: herofleet prometheus targets > " + o.TargetsFile + "; rules: herofleet prometheus rules > " + o.RulesFile + "\n")
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", iv, iv)
	fmt.Fprintf(&b, "  external_labels: {fleet: %q}\n", f.Meta.Name)
	fmt.Fprintf(&b, "rule_files:\n  - %q\n", o.RulesFile)
	fmt.Fprintf(&b, "scrape_configs:\n  - job_name: %s\n    scrape_timeout: %s\n", Job, model(min(o.ScrapeInterval, 10*time.Second)))
	fmt.Fprintf(&b, "    file_sd_configs:\n      - files: [%q]\n        refresh_interval: 1m\n", o.TargetsFile)
	return b.String()
}

// model writes a duration as Prometheus reads it ("15s", "1m", "1m30s" is not accepted before 2.x: seconds then).
func model(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
