package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/gitserver"
)

func TestAgentConfigErrorsExitInvalid(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfg, []byte("fleet: {repo: x}\nrole: tester\ndir: /tmp/x\nlisten_on: 1\n"), 0o600)
	if code := run([]string{"agent", "--config", cfg}); code != exitInvalid {
		t.Fatalf("unknown key: exit %d, want %d", code, exitInvalid)
	}
}

// The agent command serves /healthz and status, takes a sync with the token, and stops on cancel.
func TestRunAgentServes(t *testing.T) {
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	if _, err := g.Commit("fleet", "main", "empty fleet", gitserver.Text(map[string]string{
		"fleet.yaml": "name: t\n", "roles/tester.yaml": "title: Tester\n",
	})); err != nil {
		t.Fatal(err)
	}
	dir, _ := os.MkdirTemp("/tmp", "hfcmd")
	defer os.RemoveAll(dir)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	os.WriteFile(filepath.Join(dir, "token"), []byte("tok\n"), 0o600)
	cfg, err := agent.ParseConfig([]byte("fleet: {repo: " + g.RepoURL("fleet") + "}\nhost: h\nrole: tester\ndir: " + dir +
		"\nlisten: " + addr + "\ntoken_file: " + filepath.Join(dir, "token") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveAgent(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/api/v1/status")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"commit": "`) && !strings.Contains(string(b), `"commit": ""`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("agent did not apply the fleet")
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/sync", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sync: %v %v", resp, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
