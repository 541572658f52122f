package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/internal/redact"
)

// Scrapes is how Prometheus scrapes, by its own configuration and runtime: the scrape interval of each job, and
// when the server started (its clock).
type Scrapes struct {
	Global  time.Duration            // global.scrape_interval (Prometheus' default 1m)
	Jobs    map[string]time.Duration // each scrape config's interval, by job name
	Started time.Time                // when this Prometheus started
}

// Interval is the scrape interval of a job: its own, or the global one for a job the configuration does not name
// (a job label rewritten by relabelling).
func (s Scrapes) Interval(job string) time.Duration {
	if iv, ok := s.Jobs[job]; ok {
		return iv
	}
	return s.Global
}

// Scrapes reads the loaded configuration (/api/v1/status/config) and the runtime (/api/v1/status/runtimeinfo).
func (c *Client) Scrapes(ctx context.Context) (Scrapes, error) {
	var cfg struct {
		YAML string `json:"yaml"`
	}
	if err := c.status(ctx, "config", &cfg); err != nil {
		return Scrapes{}, err
	}
	var doc struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(cfg.YAML), &doc); err != nil {
		return Scrapes{}, fmt.Errorf("prometheus at %s: its configuration: %w", redact.Text(c.base), err)
	}
	s := Scrapes{Global: time.Minute, Jobs: map[string]time.Duration{}}
	if doc.Global.ScrapeInterval != "" {
		iv, err := ParseDuration(doc.Global.ScrapeInterval)
		if err != nil {
			return Scrapes{}, err
		}
		s.Global = iv
	}
	for _, sc := range doc.ScrapeConfigs {
		iv := s.Global
		if sc.ScrapeInterval != "" {
			var err error
			if iv, err = ParseDuration(sc.ScrapeInterval); err != nil {
				return Scrapes{}, err
			}
		}
		s.Jobs[sc.JobName] = iv
	}
	var rt struct {
		StartTime time.Time `json:"startTime"`
	}
	if err := c.status(ctx, "runtimeinfo", &rt); err != nil {
		return Scrapes{}, err
	}
	s.Started = rt.StartTime
	return s, nil
}

// ParseDuration reads a Prometheus duration: 15s, 1m30s, 2h, 1d, 500ms.
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := time.ParseDuration(d + "h"); err == nil {
			return 24 * n, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("prometheus duration %q: want 15s, 1m, …", s)
	}
	return d, nil
}

// status reads one of Prometheus' /api/v1/status/NAME answers into data.
func (c *Client) status(ctx context.Context, name string, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/status/"+name, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if err != nil {
		return fmt.Errorf("prometheus at %s: %w", redact.Text(c.base), err)
	}
	var a struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if len(body) > 1<<20 || json.Unmarshal(body, &a) != nil || a.Status != "success" {
		return fmt.Errorf("prometheus at %s: /api/v1/status/%s: %s %s", redact.Text(c.base), name, resp.Status, a.Error)
	}
	if err := json.Unmarshal(a.Data, data); err != nil {
		return fmt.Errorf("prometheus at %s: /api/v1/status/%s: %w", redact.Text(c.base), name, err)
	}
	return nil
}
