package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// agentClient talks to a running agent's cockpit API, for status, sync, suspend, resume, install, uninstall,
// start, stop, restart and logs. A request the agent refuses (4xx) exits 1; an agent that cannot be reached (or
// fails, 5xx) exits 2.
type agentClient struct {
	base  string
	token string
	http  *http.Client
}

// client builds the agent client from the global flags: --agent, and the token from --token-file or
// $HEROFLEET_TOKEN. The token is only required by the calls that need it; the agent says so with a 401.
func (g *globals) client() (*agentClient, error) {
	token := os.Getenv("HEROFLEET_TOKEN")
	if g.tokenFile != "" {
		b, err := os.ReadFile(g.tokenFile)
		if err != nil {
			return nil, &exitError{code: exitFailed, err: fmt.Errorf("token: %w", err)}
		}
		token = strings.TrimSpace(string(b))
	}
	return &agentClient{base: strings.TrimRight(g.agentURL, "/"), token: strings.TrimSpace(token), http: &http.Client{}}, nil
}

// maxAnswer bounds what the CLI reads of an answer (logs are streamed, not read whole).
const maxAnswer = 16 << 20

// open sends a request and returns the response when the agent accepted it (2xx); the caller closes the body.
func (c *agentClient) open(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, &exitError{code: exitFailed, err: err}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &exitError{code: exitFailed, err: fmt.Errorf("agent at %s cannot be reached: %w", c.base, err)}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(body))
	var e struct{ Error string }
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	err = fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	if resp.StatusCode == http.StatusUnauthorized {
		err = fmt.Errorf("%w (give the agent's token with --token-file or $HEROFLEET_TOKEN)", err)
	}
	if resp.StatusCode/100 == 4 {
		return nil, invalid(err)
	}
	return nil, &exitError{code: exitFailed, err: err}
}

// call sends a request and decodes a JSON answer into out (when out is not nil).
func (c *agentClient) call(ctx context.Context, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	resp, err := c.open(ctx, method, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s %s: %w", method, path, err)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)}
	}
	return nil
}

// statusOf is the "status" field of a 202 answer, for a one-line confirmation.
func statusOf(ans map[string]string) string {
	if s := ans["status"]; s != "" {
		return s
	}
	return "accepted"
}

var errNoArg = errors.New("missing argument")
