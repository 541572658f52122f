package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/internal/gitserver"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The CLI against a real agent (the agent command's serveAgent): install a catalog app and follow it to healthy, see
// it in the status table, stop it, read its log, uninstall it; and the webhook on its own webhook_listen.
func TestAgentCommandsAgainstAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real agent")
	}
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	// the app's build copies /bin/sleep as its one binary: no compiler needed
	notes := "title: Notes\nsource: {repo: https://forge.test/apps/notes.git, ref: main}\n" +
		"build: {command: [cp, /bin/sleep, notes_server], timeout: 1m}\n" +
		"binaries:\n  - {name: notes_server, kind: server, path: notes_server, args: [\"3600\"]}\n"
	if _, err := g.Commit("apps/notes", "main", "notes", gitserver.Text(map[string]string{"README": "notes"})); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Commit("ops/fleet", "main", "fleet", gitserver.Text(map[string]string{
		"fleet.yaml": "name: t\n", "roles/tester.yaml": "catalog: [notes]\n", "apps/notes.yaml": notes,
	})); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "hfcli")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { supervise.KillMarked(supervise.Marker(dir)); os.RemoveAll(dir) }()
	tokenFile, secretFile := filepath.Join(dir, "token"), filepath.Join(dir, "webhook-secret")
	os.WriteFile(tokenFile, []byte("tok\n"), 0o600)
	os.WriteFile(secretFile, []byte("hook\n"), 0o600)
	addr, hookAddr := freeAddr(t), freeAddr(t)
	cfg, err := agent.ParseConfig([]byte(fmt.Sprintf(`fleet: {repo: "https://forge.test/ops/fleet.git", ref: main}
host: h
role: tester
dir: %s
listen: %s
token_file: %s
webhook_listen: %s
webhook_secret_file: %s
rewrite: {"https://forge.test/": %q}
schedule: "@every 1h"
stop_grace: 2s
`, dir, addr, tokenFile, hookAddr, secretFile, g.URL())))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveAgent(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + addr
	cli := func(args ...string) (int, string) {
		return runCLI(t, append([]string{"--agent", base, "--token-file", tokenFile}, args...)...)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, out := cli("status"); code == 0 && strings.Contains(out, "notes") && !strings.Contains(out, "fleet none") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent never applied the fleet")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code, out := cli("install", "notes"); code != 0 || !strings.Contains(out, "notes: healthy") {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	if code, out := cli("install", "notes"); code != 1 || !strings.Contains(out, "409") {
		t.Fatalf("second install: exit %d\n%s", code, out)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		code, out := cli("status")
		if code == 0 && strings.Contains(out, "notes_server") && strings.Contains(out, "running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed notes_server running:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, out := cli("stop", "notes_server"); code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}
	if code, out := cli("status"); code != 0 || !strings.Contains(out, "stopped by a person") {
		t.Fatalf("status after stop: exit %d\n%s", code, out)
	}
	if code, out := cli("logs", "notes_server"); code != 0 {
		t.Fatalf("logs: exit %d\n%s", code, out)
	}
	if code, out := cli("start", "notes_server"); code != 0 {
		t.Fatalf("start: exit %d\n%s", code, out)
	}
	if code, out := cli("uninstall", "notes"); code != 0 {
		t.Fatalf("uninstall: exit %d\n%s", code, out)
	}

	// webhook_listen serves the webhook, authenticated by its HMAC only
	push := `{"ref":"refs/heads/main"}`
	mac := hmac.New(sha256.New, []byte("hook"))
	mac.Write([]byte(push))
	req, _ := http.NewRequest("POST", "http://"+hookAddr+"/api/v1/webhook", strings.NewReader(push))
	req.Header.Set("X-Forgejo-Signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook on webhook_listen: %d", resp.StatusCode)
	}
}
