package security

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// gitFleet writes files into a fresh git repository (one commit) and returns its dir and HEAD.
func gitFleet(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := fleetDir(t, files)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fleet"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return dir, strings.TrimSpace(string(out))
}

// controls lists the control characters in s other than newline.
func controls(s string) []string {
	var found []string
	for i, r := range s {
		if r != '\n' && (r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069) {
			found = append(found, fmt.Sprintf("%U at %d", r, i))
		}
	}
	return found
}

// `herofleet fleet status` asks agents that are not to be trusted: an endless answer, escape sequences, a
// redirect, an agent that never answers. Its memory stays bounded, the terminal gets no escape, no redirect is
// followed, and every row says why.
func TestFleetStatusAgainstHostileAgents(t *testing.T) {
	var streamed atomic.Int64
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"host":"x","fleet":{"state":"ok"},"apps":[{"name":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range (512 << 20) / len(chunk) { // 512 MiB of one app name, if the reader keeps reading
			n, err := w.Write(chunk)
			streamed.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	var followed atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/api/v1/status", http.StatusFound)
	}))
	defer redirect.Close()
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer silent.Close()

	// The fleet's HEAD is known only after the commit; the escapes agent answers with it.
	var head atomic.Value
	head.Store("")
	esc := `\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u009b31m\u202e`
	escapes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"host":"x","role":"tester%[1]s","fleet":{"commit":"%[2]s","last_sync":%[3]q,"state":"ok%[1]s"},
"quarantined":[{"app":"books%[1]s","reason":"held%[1]s"}],
"apps":[{"name":"books%[1]s","state":"failed%[1]s","why":"role","reason":"boom%[1]s","binaries":[{"name":"web%[1]s","kind":"web","state":"crash%[1]sloop","reason":"exited%[1]s"}]}]}`,
			esc, head.Load(), time.Now().UTC().Format(time.RFC3339))
	}))
	defer escapes.Close()

	hostile := map[string]string{"huge": huge.URL, "redirect": redirect.URL, "silent": silent.URL, "escapes": escapes.URL}
	files := map[string]string{"fleet.yaml": "name: security\n", "roles/tester.yaml": "preinstalled: []\n"}
	for h, u := range hostile {
		files["hosts/"+h+".yaml"] = "role: tester\nagent: " + u + "\n"
	}
	dir, rev := gitFleet(t, files)
	head.Store(rev)
	start := time.Now()
	code, out, errOut, rss := cli(t, nil, "fleet", "status", "--timeout", "3s", dir)
	took := time.Since(start)
	if code != 1 {
		t.Errorf("fleet status: exit %d\n%s%s", code, out, errOut)
	}
	if bad := controls(out + errOut); len(bad) > 0 {
		t.Errorf("the output holds control characters %v:\n%q", bad, out)
	}
	for h, want := range map[string]string{"huge": "agent answered too much", "redirect": "302", "silent": "no answer"} {
		if line := row(out, h); !strings.Contains(line, want) {
			t.Errorf("row %s: %q, want %q\n%s", h, line, want, out)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	_, jsonOut, _, _ := cli(t, nil, "fleet", "status", "--timeout", "3s", "--format", "json", dir)
	if bad := controls(jsonOut); len(bad) > 0 {
		t.Errorf("the JSON holds raw control characters %v", bad)
	}

	// The same CLI against the escapes agent alone: its memory without the endless answer.
	one, _ := gitFleet(t, map[string]string{"fleet.yaml": "name: security\n", "roles/tester.yaml": "preinstalled: []\n", "hosts/escapes.yaml": "role: tester\nagent: " + escapes.URL + "\n"})
	_, _, _, baseRSS := cli(t, nil, "fleet", "status", "--timeout", "3s", one)
	if rss > baseRSS+64<<10 {
		t.Errorf("peak RSS %d KiB against %d KiB for one small agent", rss, baseRSS)
	}
	leak := "nothing"
	if followed.Load() > 0 {
		leak = "the request reached the redirect's target"
	}
	record(t, Row{
		Attack: "`herofleet fleet status` against hostile agents",
		Sent: "four host files whose agents answer: 512 MiB of JSON streamed (one endless app name); an OSC 52 clipboard write, a screen clear, a CSI in C1 " +
			"and a bidi override in every string; a 302 to another server; nothing at all (a request held open)",
		Did: fmt.Sprintf("stopped reading the endless answer at 1 MiB (row: %q); replaced every control character in the table "+
			"and escaped them in --format json; did not follow the redirect (row: %q); gave up on the silent agent at --timeout (row: %q); exit %d",
			row(out, "huge"), row(out, "redirect"), row(out, "silent"), code),
		Figure: fmt.Sprintf("CLI peak RSS %.1f MiB (%.1f MiB against one small agent); %.1f MiB streamed by the endless agent before the CLI hung up "+
			"(socket buffers included); %d requests reached the redirect's target; whole run %s", float64(rss)/1024, float64(baseRSS)/1024,
			float64(streamed.Load())/(1<<20), followed.Load(), took.Round(time.Millisecond)),
		Leaked: leak,
	})
}

// row is the "not fine" line of host in fleet status' table, its spaces squeezed.
func row(out, host string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == host && f[1] == "(agent)" {
			return strings.Join(f, " ")
		}
	}
	return ""
}
