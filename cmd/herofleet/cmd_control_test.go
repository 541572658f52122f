package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeAgent answers the cockpit API the way the agent does, and records the calls it got.
type fakeAgent struct {
	mu    sync.Mutex
	calls []string
	polls int
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
	f.polls++
	polls := f.polls
	f.mu.Unlock()
	authed := r.Header.Get("Authorization") == "Bearer tok"
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/v1/apps":
		fmt.Fprint(w, `{"host":"t1","role":"tester","fleet":{"commit":"0123456789abcdef0123","state":"ok","last_sync":"2026-11-27T02:00:00Z"},
		  "rows":[{"type":"binary","app":"books","binary":"books_server","kind":"server","state":"running","pid":42,"url":"http://t1:9201/","restarts":0,"since":"2026-11-27T01:00:00Z","actions":["stop","restart","logs"]},
		          {"type":"binary","app":"books","binary":"books_web","kind":"web","state":"stopped","reason":"stopped by a person","restarts":0,"actions":["start","logs"]},
		          {"type":"bundle","app":"voice","binaries":["voice_server"],"state":"not-installed","actions":["install"]}]}`)
	case r.Method == "GET" && r.URL.Path == "/api/v1/status":
		fmt.Fprint(w, `{"host":"t1","role":"tester","fleet":{"commit":"0123456789abcdef0123","state":"ok","last_sync":"2026-11-27T02:00:00Z"},
		  "refused":[],"quarantined":[{"app":"chat","rev":"abcdef0123456789","reason":"build: exit status 1"}],"apps":[],
		  "rows":[{"type":"binary","app":"books","binary":"books_server","kind":"server","state":"running","pid":42,"url":"http://t1:9201/","restarts":0,"since":"2026-11-27T01:00:00Z","actions":["stop","restart","logs"]},
		          {"type":"binary","app":"books","binary":"books_web","kind":"web","state":"stopped","reason":"stopped by a person","restarts":0,"actions":["start","logs"]},
		          {"type":"bundle","app":"voice","binaries":["voice_server"],"state":"not-installed","actions":["install"]}]}`)
	case !authed:
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"missing or wrong bearer token"}`)
	case r.Method == "POST" && r.URL.Path == "/api/v1/apps/voice/install":
		w.WriteHeader(202)
		fmt.Fprint(w, `{"job":"1-voice"}`)
	case r.Method == "POST" && r.URL.Path == "/api/v1/apps/broken/install":
		w.WriteHeader(202)
		fmt.Fprint(w, `{"job":"2-broken"}`)
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/install"):
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"nope: not in this host's catalog"}`)
	case r.URL.Path == "/api/v1/jobs/1-voice":
		phase := map[bool]string{true: "building", false: "healthy"}[polls < 6]
		fmt.Fprintf(w, `{"id":"1-voice","app":"voice","phase":%q}`, phase)
	case r.URL.Path == "/api/v1/jobs/2-broken":
		fmt.Fprint(w, `{"id":"2-broken","app":"broken","phase":"failed","error":"build: exit status 1","log_tail":"cc: error\n"}`)
	case r.URL.Path == "/api/v1/binaries/books_server/logs":
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "line 1\nline 2\n")
	case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/api/v1/binaries/books_"):
		w.WriteHeader(202)
		fmt.Fprint(w, `{"status":"done"}`)
	case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/api/v1/binaries/"):
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"no installed binary of that name"}`)
	case r.Method == "DELETE" || r.URL.Path == "/api/v1/sync" || r.URL.Path == "/api/v1/suspend" || r.URL.Path == "/api/v1/resume":
		w.WriteHeader(202)
		fmt.Fprint(w, `{"status":"requested"}`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

// runCLI runs herofleet in-process and returns its exit code and what it printed.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK, out.String()
	}
	out.WriteString(err.Error())
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String()
	}
	return exitFailed, out.String()
}

func TestAgentCommands(t *testing.T) {
	fake := &fakeAgent{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HEROFLEET_TOKEN", "")
	with := func(args ...string) []string {
		return append([]string{"--agent", srv.URL, "--token-file", tokenFile}, args...)
	}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{with("status"), 0, []string{"host t1  role tester", "fleet 0123456789ab (ok)", "quarantined chat at abcdef012345: build: exit status 1",
			"APP", "books  books_server", "running", "http://t1:9201/", "stopped by a person", "voice  (voice_server)", "not-installed"}},
		{with("install", "voice"), 0, []string{"voice: install job 1-voice", "voice: building", "voice: healthy"}},
		{with("install", "broken"), 1, []string{"broken: failed", "cc: error", "install failed: build: exit status 1"}},
		{with("install", "nope"), 1, []string{"404 Not Found: nope: not in this host's catalog"}},
		{with("uninstall", "voice"), 0, []string{"voice: requested"}},
		{with("stop", "books_web"), 0, []string{"books_web: done"}},
		{with("start", "books_web"), 0, nil},
		{with("restart", "books_server"), 0, nil},
		{with("restart", "ghost"), 1, []string{"no installed binary of that name"}},
		{with("logs", "books_server", "-n", "2"), 0, []string{"line 1\nline 2\n"}},
		{with("sync"), 0, []string{"requested"}},
		{with("suspend"), 0, nil},
		{with("resume"), 0, nil},
		{[]string{"--agent", srv.URL, "stop", "books_web"}, 1, []string{"401 Unauthorized", "--token-file or $HEROFLEET_TOKEN"}},
		{[]string{"--agent", "http://127.0.0.1:1", "status"}, 2, []string{"cannot be reached"}},
	} {
		t.Run(strings.Join(tc.args[min(4, len(tc.args)-1):], " "), func(t *testing.T) {
			code, out := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Setenv("HEROFLEET_TOKEN", "tok")
	if code, out := runCLI(t, "--agent", srv.URL, "stop", "books_web"); code != 0 {
		t.Fatalf("token from $HEROFLEET_TOKEN: %d %s", code, out)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, want := range []string{"POST /api/v1/binaries/books_web/stop", "GET /api/v1/binaries/books_server/logs?tail=2",
		"DELETE /api/v1/apps/voice", "POST /api/v1/suspend", "POST /api/v1/resume", "POST /api/v1/sync"} {
		if !strings.Contains(strings.Join(fake.calls, "\n"), want) {
			t.Errorf("the agent never got %q; calls:\n%s", want, strings.Join(fake.calls, "\n"))
		}
	}
}
