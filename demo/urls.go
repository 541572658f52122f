package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/fleet"
)

// endpoint is one thing the demo prints and --check GETs.
type endpoint struct {
	what    string // "demo-tester hero_books_web"
	url     string // http URL (for a unix socket: http://unix/<path>)
	network string // tcp or unix
	addr    string
}

// printURLs prints every agent API and every binary (its url, else its listen address) and returns them.
func printURLs(out io.Writer, hosts []*host) []endpoint {
	var eps []endpoint
	for _, h := range hosts {
		eps = append(eps, endpoint{what: h.name + " agent", url: h.api + "/api/v1/status", network: "tcp", addr: strings.TrimPrefix(h.api, "http://")})
		st := h.agent.Status()
		for _, a := range st.Apps {
			inst := installedProcs(h, a.Name)
			for _, p := range inst {
				ep := endpoint{what: fmt.Sprintf("%s %s", h.name, p.Name)}
				l, err := fleet.ParseListen(p.Listen, fleet.Vars{})
				if err != nil {
					continue
				}
				ep.network, ep.addr = l.Network, l.Address
				switch {
				case p.URL != "":
					ep.url = p.URL
				case l.Network == "tcp":
					ep.url = "http://" + l.Address + "/"
				default:
					ep.url = "unix:" + l.Address
				}
				eps = append(eps, ep)
			}
		}
	}
	for _, ep := range eps {
		fmt.Fprintf(out, "  %-36s %s\n", ep.what, ep.url)
	}
	return eps
}

func installedProcs(h *host, app string) []agent.Proc { return h.agent.Installed(app) }

// checkURLs GETs every endpoint (a unix socket over the socket) and fails on any non-2xx answer.
func checkURLs(ctx context.Context, out io.Writer, eps []endpoint) error {
	var failed []string
	for _, ep := range eps {
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, ep.network, ep.addr)
		}, DisableKeepAlives: true}
		url := ep.url
		if strings.HasPrefix(url, "unix:") {
			url = "http://localhost/"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", ep.what, err))
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			failed = append(failed, fmt.Sprintf("%s: %s", ep.what, resp.Status))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("demo check failed:\n  %s", strings.Join(failed, "\n  "))
	}
	fmt.Fprintf(out, "check: all %d URLs answered 200\n", len(eps))
	return nil
}

func marshalConfig(c *agent.Config) ([]byte, error) { return yaml.Marshal(c) }
