package cockpit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/agenttest"
)

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// webhookFleet has nothing to install: a push of it changes the applied commit only. The agent's own schedule is
// "@every 1h" (agenttest.AgentConfig), so within a test the agent syncs only when it is asked to.
const webhookFleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: []
`

// pushFleet commits a new fleet commit, its title set to what pushed it, and returns it.
func pushFleet(h *harness, title string) string {
	h.t.Helper()
	return h.commitFleet(webhookFleet + fmt.Sprintf("-- fleet.yaml --\nname: test\ntitle: %q\nsync: {schedule: \"@every 1h\"}\n", title))
}

// syncsAsked reads herofleet_sync_requests_total from the agent's /metrics: every sync asked for out of schedule
// (the webhook's included) counts there before its answer is sent, so it shows at once whether one was asked.
func syncsAsked(t *testing.T, c *cockpit) string {
	t.Helper()
	code, text := c.do("GET", "/metrics", false)
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "herofleet_sync_requests_total "); ok && code == 200 {
			return v
		}
	}
	t.Fatalf("/metrics (%d) has no herofleet_sync_requests_total", code)
	return ""
}

// expectNoSync fails the test when a sync was asked since asked was read, or the agent synced since before.
func expectNoSync(t *testing.T, c *cockpit, asked string, before agent.FleetStatus) {
	t.Helper()
	if now := syncsAsked(t, c); now != asked {
		t.Fatalf("a sync was asked: herofleet_sync_requests_total %s -> %s", asked, now)
	}
	if now := c.a.Status().Fleet; !now.LastSync.Equal(before.LastSync) || now.Commit != before.Commit {
		t.Fatalf("the agent synced: last sync %s -> %s, commit %.12s -> %.12s", before.LastSync, now.LastSync, before.Commit, now.Commit)
	}
}

// awaitApplied waits until the agent applied the fleet commit rev.
func awaitApplied(t *testing.T, a *agent.Agent, rev string) {
	t.Helper()
	agenttest.WaitUntil(t, 30*time.Second, "fleet commit "+rev[:12]+" applied", func() bool { return a.Status().Fleet.Commit == rev })
}

// postWebhook posts body to url's webhook with headers and returns the status code.
func postWebhook(t *testing.T, url, body string, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/webhook", strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Only a correctly signed push to the followed ref syncs: the pushed fleet commit is applied at once, although the
// agent's own schedule would wait an hour. Everything else is refused or ignored and changes nothing: the agent does
// not even ask the remote, and the commit it could have applied waits for the next signed push.
func TestWebhook(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secretFile, []byte("hook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.commitFleet(webhookFleet)
	c := h.startCockpit(func(cfg *agent.Config) { cfg.WebhookSecretFile = secretFile })
	agenttest.WaitUntil(t, 30*time.Second, "the first fleet commit applied", func() bool { return c.a.Status().Fleet.Commit != "" })

	push := `{"ref":"refs/heads/main","after":"0123"}`
	other := `{"ref":"refs/heads/dev","after":"0123"}`
	signed := map[string]string{"X-Forgejo-Signature": sign("hook-secret", push), "X-Forgejo-Event": "push"}
	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		code    int
		synced  bool
	}{
		{"forgejo push to main", push, signed, 202, true},
		{"gitea signature", push, map[string]string{"X-Gitea-Signature": sign("hook-secret", push)}, 202, true},
		{"no signature", push, nil, 401, false},
		{"wrong secret", push, map[string]string{"X-Forgejo-Signature": sign("other", push)}, 401, false},
		{"signature of another body", push, map[string]string{"X-Forgejo-Signature": sign("hook-secret", other)}, 401, false},
		{"not hex", push, map[string]string{"X-Forgejo-Signature": "zz"}, 401, false},
		{"push to another branch", other, map[string]string{"X-Forgejo-Signature": sign("hook-secret", other)}, 200, false},
		{"not a push", push, map[string]string{"X-Forgejo-Signature": sign("hook-secret", push), "X-Forgejo-Event": "issues"}, 200, false},
		{"bearer token is not enough", push, map[string]string{"Authorization": "Bearer " + testToken}, 401, false},
	} {
		// the commit is pushed before the webhook says so, from the test's own goroutine (the forge fails h.t)
		before, asked := c.a.Status().Fleet, syncsAsked(t, c)
		next := pushFleet(h, tc.name)
		ok := t.Run(tc.name, func(t *testing.T) {
			if code := postWebhook(t, c.srv.URL, tc.body, tc.headers); code != tc.code {
				t.Fatalf("got %d, want %d", code, tc.code)
			}
			if tc.synced {
				awaitApplied(t, c.a, next)
				return
			}
			expectNoSync(t, c, asked, before)
			// the agent could have synced all along: the signed push that follows applies the commit
			if code := postWebhook(t, c.srv.URL, push, signed); code != 202 {
				t.Fatalf("the signed push that follows: %d", code)
			}
			awaitApplied(t, c.a, next)
		})
		if !ok {
			return
		}
	}

	big := strings.Repeat("x", webhookMaxBody+10)
	resp, err := http.Post(c.srv.URL+"/api/v1/webhook", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}

	// webhook_listen: the same handler alone on its own listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- NewAPI(c.a, testToken).ServeWebhook(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve the webhook: %v", err)
		}
	}()
	next := pushFleet(h, "webhook_listen")
	if code := postWebhook(t, "http://"+ln.Addr().String(), push, map[string]string{"X-Forgejo-Signature": sign("hook-secret", push)}); code != 202 {
		t.Fatalf("webhook_listen: %d", code)
	}
	awaitApplied(t, c.a, next)
	resp, err = http.Get("http://" + ln.Addr().String() + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Fatalf("webhook_listen serves more than the webhook: /api/v1/status %d", resp.StatusCode)
	}
}

// Without a secret file every webhook is refused, and syncs nothing; the agent could sync, as a sync asked with
// the token shows.
func TestWebhookWithoutSecret(t *testing.T) {
	h := newHarness(t)
	h.commitFleet(webhookFleet)
	c := h.startCockpit()
	agenttest.WaitUntil(t, 30*time.Second, "the first fleet commit applied", func() bool { return c.a.Status().Fleet.Commit != "" })
	before, asked := c.a.Status().Fleet, syncsAsked(t, c)
	next := pushFleet(h, "without a secret")
	push := `{"ref":"refs/heads/main"}`
	if code := postWebhook(t, c.srv.URL, push, map[string]string{"X-Forgejo-Signature": sign("", push)}); code != 403 {
		t.Fatalf("got %d, want 403", code)
	}
	expectNoSync(t, c, asked, before)
	if code, body := c.do("POST", "/api/v1/sync", true); code != 202 {
		t.Fatalf("sync with the token: %d %s", code, body)
	}
	awaitApplied(t, c.a, next)
}
