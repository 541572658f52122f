package apply

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// probe is one HTTP GET of a binary's health path over its listen address (tcp or unix).
func probe(ctx context.Context, listen, path string) error {
	l, err := fleet.ParseListen(listen, fleet.Vars{})
	if err != nil {
		return err
	}
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, l.Network, l.Address)
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	host := "localhost"
	if l.Network == "tcp" {
		host = l.Address
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+path, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// waitHealthy polls a binary's health until it answers 2xx, the process exits, or the deadline passes.
func waitHealthy(ctx context.Context, p Proc, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probe(ctx, p.Listen, p.Health); last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was healthy%s", p.Name, squatted(p, true))
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy after %s: %v%s", p.Name, timeout, last, squatted(p, false))
		case <-tick.C:
		}
	}
}

// squatted names the process that holds a binary's TCP port, for why it failed: any holder once the binary
// exited, only one herofleet did not start while it may still run (then the binary itself may hold it).
func squatted(p Proc, exited bool) string {
	addr := tcpOf(p.Listen)
	if addr == "" {
		return ""
	}
	h, ok := supervise.PortHolder(addr)
	if !ok || !exited && (h.Marked || h.PID == 0) {
		return ""
	}
	return fmt.Sprintf(": port %s is held by %s", addr, h)
}
