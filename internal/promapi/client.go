package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/redact"
)

// FleetJob is the scrape job of the fleet's agents in the configuration `herofleet prometheus config` writes (its
// instance label is the host's name). The fleet view and the rollout gate do not rely on it: they find each host by
// its own herofleet_host_info (OnHost).
const FleetJob = "herofleet"

// MaxAnswer bounds what one query's answer may weigh: a fleet of thousands of hosts answers in a few MiB.
const MaxAnswer = 64 << 20

// Client asks one Prometheus server.
type Client struct {
	base string
	http *http.Client
}

// New is a client of the Prometheus server at base (http://HOST:PORT, optionally with a path prefix). Every
// query is bounded by timeout.
func New(base string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q: want http://HOST:PORT", redact.Text(base))
	}
	return &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: timeout}}, nil
}

// Sample is one series of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
	At     float64 // the evaluation's time, Unix seconds: Prometheus' clock when the query named no time
}

// Query evaluates an instant query now (at the zero time) or at a time, and returns its vector. A scalar answer
// is one sample without labels.
func (c *Client) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	form := url.Values{"query": {query}}
	if !at.IsZero() {
		form.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err) // net/http hides a URL's password
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("prometheus at %s: %w", redact.Text(c.base), err)
	}
	if len(body) > MaxAnswer {
		return nil, fmt.Errorf("prometheus at %s: the answer to %q exceeds %d MiB", redact.Text(c.base), query, MaxAnswer>>20)
	}
	return decode(body, resp.Status, query)
}

// answer is Prometheus' envelope (https://prometheus.io/docs/prometheus/latest/querying/api/).
type answer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func decode(body []byte, status, query string) ([]Sample, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("query %q: %s: not a Prometheus answer", query, status)
	}
	if a.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %s", query, a.ErrorType, a.Error)
	}
	switch a.Data.ResultType {
	case "vector":
		var rs []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(a.Data.Result, &rs); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		out := make([]Sample, 0, len(rs))
		for _, r := range rs {
			v, err := value(r.Value)
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", query, err)
			}
			at, _ := r.Value[0].(float64)
			out = append(out, Sample{Labels: r.Metric, Value: v, At: at})
		}
		return out, nil
	case "scalar":
		var r [2]any
		if err := json.Unmarshal(a.Data.Result, &r); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		v, err := value(r)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		at, _ := r[0].(float64)
		return []Sample{{Labels: map[string]string{}, Value: v, At: at}}, nil
	}
	return nil, fmt.Errorf("query %q: a %s answer, want an instant vector", query, a.Data.ResultType)
}

// value reads [time, "value"].
func value(p [2]any) (float64, error) {
	s, ok := p[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", p[1])
	}
	return strconv.ParseFloat(s, 64)
}

// HostSelector is the herofleet_host_info series of the hosts (of every host when only is nil): each names its
// host, and its scrape target's labels (instance, job) join it to the target's other series, whatever the scrape
// configuration (static targets by address, file_sd, relabelling, any job name).
func HostSelector(only []string) string {
	if only == nil {
		return api.SeriesHostInfo
	}
	names := make([]string, len(only))
	for i, h := range only {
		names[i] = regexp.QuoteMeta(h)
	}
	return api.SeriesHostInfo + "{" + api.LabelHost + "=~" + Quote(strings.Join(names, "|")) + "}"
}

// OnHost joins the samples of expr to the host of their scrape target: only the hosts' targets answer, each
// sample carrying its host's name as the host label (the metric name is dropped).
func OnHost(expr string, only []string) string {
	return expr + " * on(" + TargetLabels + ") group_left(" + api.LabelHost + ") " + HostSelector(only)
}

// TargetLabels are the labels Prometheus gives every series of one scrape target, whatever its configuration.
const TargetLabels = "instance, job"

// Target is one scrape target, by the labels of TargetLabels.
type Target struct{ Instance, Job string }

// TargetOf is the scrape target a sample was scraped from.
func TargetOf(s Sample) Target { return Target{Instance: s.Labels["instance"], Job: s.Labels["job"]} }

// Quote makes a string a PromQL string literal, for a label value in a query ("commit", "host").
func Quote(s string) string { return strconv.Quote(s) }
