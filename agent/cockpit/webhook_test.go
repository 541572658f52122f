package cockpit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// Only a correctly signed push to the followed ref asks for a sync; everything else is refused or ignored and
// changes nothing.
func TestWebhook(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte("hook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte("fleet: {repo: https://forge.test/ops/fleet.git, ref: main}\nhost: t1\ndir: " + dir +
		"\nwebhook_secret_file: " + secretFile + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewAPI(a, testToken).Mux)
	defer srv.Close()

	push := `{"ref":"refs/heads/main","after":"0123"}`
	other := `{"ref":"refs/heads/dev","after":"0123"}`
	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		code    int
		synced  bool
	}{
		{"forgejo push to main", push, map[string]string{"X-Forgejo-Signature": sign("hook-secret", push), "X-Forgejo-Event": "push"}, 202, true},
		{"gitea signature", push, map[string]string{"X-Gitea-Signature": sign("hook-secret", push)}, 202, true},
		{"no signature", push, nil, 401, false},
		{"wrong secret", push, map[string]string{"X-Forgejo-Signature": sign("other", push)}, 401, false},
		{"signature of another body", push, map[string]string{"X-Forgejo-Signature": sign("hook-secret", other)}, 401, false},
		{"not hex", push, map[string]string{"X-Forgejo-Signature": "zz"}, 401, false},
		{"push to another branch", other, map[string]string{"X-Forgejo-Signature": sign("hook-secret", other)}, 200, false},
		{"not a push", push, map[string]string{"X-Forgejo-Signature": sign("hook-secret", push), "X-Forgejo-Event": "issues"}, 200, false},
		{"bearer token is not enough", push, map[string]string{"Authorization": "Bearer " + testToken}, 401, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/webhook", strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			synced := false
			select {
			case <-a.trigger:
				synced = true
			default:
			}
			if resp.StatusCode != tc.code || synced != tc.synced {
				t.Fatalf("got %d synced=%v, want %d synced=%v", resp.StatusCode, synced, tc.code, tc.synced)
			}
		})
	}

	big := strings.Repeat("x", webhookMaxBody+10)
	resp, err := http.Post(srv.URL+"/api/v1/webhook", "application/json", strings.NewReader(big))
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
	defer cancel()
	go func() { _ = NewAPI(a, testToken).ServeWebhook(ctx, ln) }()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/webhook", strings.NewReader(push))
	req.Header.Set("X-Forgejo-Signature", sign("hook-secret", push))
	resp, err = (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 || len(a.trigger) != 1 {
		t.Fatalf("webhook_listen: %d, trigger %d", resp.StatusCode, len(a.trigger))
	}
	resp, err = http.Get("http://" + ln.Addr().String() + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Fatalf("webhook_listen serves more than the webhook: /api/v1/status %d", resp.StatusCode)
	}
}

// Without a secret file every webhook is refused.
func TestWebhookWithoutSecret(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig([]byte("fleet: {repo: https://forge.test/ops/fleet.git}\nhost: t1\ndir: " + dir + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewAPI(a, testToken).Mux)
	defer srv.Close()
	push := `{"ref":"refs/heads/main"}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/webhook", strings.NewReader(push))
	req.Header.Set("X-Forgejo-Signature", sign("", push))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || len(a.trigger) != 0 {
		t.Fatalf("got %d, trigger %d", resp.StatusCode, len(a.trigger))
	}
}
