package security

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// catalogFleet has books installable on click (not installed), so that every cockpit route has something to act on.
const catalogFleet = `
-- fleet.yaml --
name: security
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
catalog: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`

// mutating are the cockpit's routes that change something or read logs (README, "The cockpit").
var mutating = []struct{ method, path string }{
	{"POST", "/api/v1/apps/books/install"},
	{"DELETE", "/api/v1/apps/books"},
	{"POST", "/api/v1/binaries/books_server/start"},
	{"POST", "/api/v1/binaries/books_server/stop"},
	{"POST", "/api/v1/binaries/books_server/restart"},
	{"GET", "/api/v1/binaries/books_server/logs?tail=10"},
	{"POST", "/api/v1/sync"},
	{"POST", "/api/v1/suspend"},
	{"POST", "/api/v1/resume"},
}

// Every mutating route without the token, or with a wrong one in every shape, is 401 and changes nothing; with
// the token each answers its own way (the route is there).
func TestCockpitTokenOnEveryMutatingRoute(t *testing.T) {
	p := startAgent(t, catalogFleet, nil, options{}, "books")
	p.waitFleet("the fleet applied", func(st agentStatus) bool { return st.Fleet.Commit != "" })
	syncs := p.metric("herofleet_syncs_total")
	wrong := map[string]string{
		"none":                       "",
		"a wrong token":              "Bearer wrong-" + p.token,
		"the token's prefix":         "Bearer " + p.token[:len(p.token)-1],
		"the token and a byte more":  "Bearer " + p.token + "x",
		"lower-case scheme":          "bearer " + p.token,
		"Basic with the token":       "Basic " + p.token,
		"the token alone":            p.token,
		"an empty bearer":            "Bearer ",
		"the token in the query":     "",
		"the token as a cookie only": "",
	}
	codes := map[int]int{}
	n := 0
	for _, r := range mutating {
		for shape, auth := range wrong {
			path, hdr := r.path, []string{}
			switch shape {
			case "the token in the query":
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				path += sep + "token=" + p.token
			case "the token as a cookie only":
				hdr = []string{"Cookie", "token=" + p.token}
			}
			a := do(t, r.method, p.api, path, "", auth, nil, hdr...)
			codes[a.code]++
			n++
			if a.code != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: %d %s", r.method, r.path, shape, a.code, a.body)
			}
			if strings.Contains(a.body, p.token) {
				t.Errorf("%s %s with %s: the answer holds the token", r.method, r.path, shape)
			}
		}
	}
	st, _ := p.status()
	changed := []string{}
	if st.Fleet.State == "suspended" {
		changed = append(changed, "the fleet suspended")
	}
	for _, a := range st.Apps {
		if a.Name == "books" && a.State != "not-installed" {
			changed = append(changed, "books "+string(a.State))
		}
	}
	if got := p.metric("herofleet_syncs_total"); got != syncs {
		changed = append(changed, fmt.Sprintf("syncs_total %v -> %v", syncs, got))
	}
	if len(changed) > 0 {
		t.Errorf("refused requests changed the host: %v", changed)
	}

	// With the token: each route answers (install 202 and its job; the job's log_tail only with the token).
	with := map[string]int{}
	for _, r := range mutating {
		a := do(t, r.method, p.api, r.path, "", "Bearer "+p.token, nil)
		with[r.method+" "+strings.SplitN(r.path, "?", 2)[0]] = a.code
		if a.code == http.StatusUnauthorized || strings.Contains(a.body, "404 page not found") {
			t.Errorf("%s %s with the token: %d %s", r.method, r.path, a.code, a.body)
		}
		if strings.HasSuffix(r.path, "/install") {
			var job struct{ Job string }
			json.Unmarshal([]byte(a.body), &job)
			if job.Job == "" {
				t.Fatalf("install with the token: %d %s", a.code, a.body)
			}
			agenttest.WaitUntil(t, 60*time.Second, "the install job done", func() bool {
				j := do(t, "GET", p.api, "/api/v1/jobs/"+job.Job, "", "Bearer "+p.token, nil)
				return strings.Contains(j.body, `"healthy"`) || strings.Contains(j.body, `"failed"`)
			})
			anon := do(t, "GET", p.api, "/api/v1/jobs/"+job.Job, "", "Bearer wrong", nil)
			var j map[string]any
			json.Unmarshal([]byte(anon.body), &j)
			if tail, ok := j["log_tail"]; ok && tail != "" && tail != nil {
				t.Errorf("the job's log_tail without the token: %v", tail)
			}
		}
	}
	if p.metric("herofleet_syncs_total") <= syncs {
		t.Errorf("POST sync with the token did not sync")
	}
	var withList []string
	for k, v := range with {
		withList = append(withList, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(withList)
	record(t, Row{
		Attack: "cockpit: a mutating route without the token, or with a wrong one",
		Sent: fmt.Sprintf("each of the %d routes that change something or read logs (%s) with no Authorization, a wrong token, the token's prefix, "+
			"the token plus a byte, `bearer` in lower case, Basic, the bare token, an empty bearer, the token in the query, the token as a cookie",
			len(mutating), routeList()),
		Did: "answered 401 to every one and changed nothing (books not installed, the fleet not suspended, no sync); the compare is " +
			"constant-time (agent/cockpit/api.go, authorized: subtle.ConstantTimeCompare); with the token the same routes answered " + strings.Join(withList, ", ") +
			"; a job's log_tail is shown only with the token",
		Figure: fmt.Sprintf("%d requests: %s", n, codeCounts(codes)),
		Leaked: leaked(p.leaks(p.token)),
	})
}

// agentStatus names the status type for the conditions above.
type agentStatus = agent.Status

func routeList() string {
	var s []string
	for _, r := range mutating {
		s = append(s, "`"+r.method+" "+strings.SplitN(r.path, "?", 2)[0]+"`")
	}
	return strings.Join(s, ", ")
}

func codeCounts(codes map[int]int) string {
	var keys []int
	for c := range codes {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	var s []string
	for _, c := range keys {
		s = append(s, fmt.Sprintf("%d×%d", codes[c], c))
	}
	return strings.Join(s, ", ")
}

// A page on another origin that resolves its name to 127.0.0.1 (DNS rebinding) is answered 421 by the cockpit;
// metrics_listen answers any Host but only what it publishes, and only GET.
func TestCockpitHostGuardAgainstDNSRebinding(t *testing.T) {
	p := startAgent(t, catalogFleet, nil, options{}, "books")
	p.waitFleet("the fleet applied", func(st agentStatus) bool { return st.Fleet.Commit != "" })
	evil := "attacker.example"
	var guarded []string
	codes := map[int]int{}
	for _, path := range []string{"/", "/api/v1/status", "/api/v1/apps", "/metrics", "/cockpit/cockpit.js"} {
		a := do(t, "GET", p.api, path, evil, "", nil)
		codes[a.code]++
		if a.code != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with Host %s: %d", path, evil, a.code)
		}
		if strings.Contains(a.body, "books") || strings.Contains(a.body, "herofleet_") {
			t.Errorf("GET %s with Host %s answered the agent's data", path, evil)
		}
		guarded = append(guarded, path)
	}
	a := do(t, "POST", p.api, "/api/v1/sync", evil+":80", "Bearer "+p.token, nil)
	codes[a.code]++
	if a.code != http.StatusMisdirectedRequest {
		t.Errorf("POST sync with Host %s and the token: %d", evil, a.code)
	}
	for _, host := range []string{"localhost:1234", "127.0.0.1", p.api, "[::1]:7070", "t1"} {
		if a := do(t, "GET", p.api, "/api/v1/status", host, "", nil); a.code != http.StatusOK {
			t.Errorf("GET status with Host %s: %d", host, a.code)
		}
	}
	if a := do(t, "GET", p.api, "/healthz", evil, "", nil); a.code != http.StatusOK || a.body != "ok\n" {
		t.Errorf("/healthz with Host %s: %d %q", evil, a.code, a.body)
	}
	ro := map[string]int{}
	for _, path := range []string{"/metrics", "/api/v1/status"} {
		a := do(t, "GET", p.ro, path, evil, "", nil)
		ro["GET "+path] = a.code
		if a.code != http.StatusOK {
			t.Errorf("metrics_listen GET %s with Host %s: %d", path, evil, a.code)
		}
	}
	for _, r := range mutating {
		a := do(t, r.method, p.ro, r.path, evil, "Bearer "+p.token, nil)
		ro[r.method+" (mutating)"] = a.code
		if a.code != http.StatusNotFound && a.code != http.StatusMethodNotAllowed {
			t.Errorf("metrics_listen %s %s: %d", r.method, r.path, a.code)
		}
	}
	var roList []string
	for k, v := range ro {
		roList = append(roList, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(roList)
	record(t, Row{
		Attack: "DNS rebinding: a web page reads the cockpit through a name of its own",
		Sent:   fmt.Sprintf("`Host: %s` on GET %s and on POST /api/v1/sync (with the token); the same Host on metrics_listen", evil, strings.Join(guarded, ", ")),
		Did: "the cockpit answered 421 Misdirected Request to each, and 200 to Host localhost, 127.0.0.1, its listen address, ::1 and its host name; /healthz " +
			"answers `ok` to any Host; metrics_listen answered any Host but only GET /metrics and /api/v1/status (redacted), every mutating route there 404/405",
		Figure: fmt.Sprintf("cockpit: %s; metrics_listen: %s", codeCounts(codes), strings.Join(roList, ", ")),
		Leaked: leaked(p.leaks(p.token)),
	})
}

// hexMAC is the webhook signature of body under key.
func hexMAC(key, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// A push with a missing or wrong HMAC is refused, on listen and on webhook_listen; with no secret file every push is.
func TestWebhookHMAC(t *testing.T) {
	const secret = "whsec-7c1f0e"
	p := startAgent(t, catalogFleet, nil, options{webhookSecret: secret, webhookListen: true}, "books")
	p.waitFleet("the fleet applied", func(st agentStatus) bool { return st.Fleet.Commit != "" })
	syncs := p.metric("herofleet_syncs_total")
	push := `{"ref":"refs/heads/main"}`
	bad := map[string][]string{
		"no signature":                    {"X-Forgejo-Event", "push"},
		"a signature of another body":     {"X-Forgejo-Signature", hexMAC(secret, `{"ref":"refs/heads/other"}`)},
		"a signature under another key":   {"X-Forgejo-Signature", hexMAC("guess", push)},
		"a signature under an empty key":  {"X-Gitea-Signature", hexMAC("", push)},
		"the signature truncated":         {"X-Forgejo-Signature", hexMAC(secret, push)[:62]},
		"the signature in upper case hex": {"X-Forgejo-Signature", strings.ToUpper(hexMAC("x", push))},
		"the secret itself":               {"X-Forgejo-Signature", secret},
		"sha256= and garbage":             {"X-Forgejo-Signature", "sha256=zz"},
	}
	codes := map[int]int{}
	for _, addr := range []string{p.api, p.hook} {
		for what, hdr := range bad {
			a := do(t, "POST", addr, "/api/v1/webhook", "attacker.example", "", strings.NewReader(push), hdr...)
			codes[a.code]++
			if a.code != http.StatusUnauthorized {
				t.Errorf("webhook on %s with %s: %d %s", addr, what, a.code, a.body)
			}
		}
	}
	if got := p.metric("herofleet_syncs_total"); got != syncs {
		t.Errorf("refused pushes synced: syncs_total %v -> %v", syncs, got)
	}
	good := do(t, "POST", p.hook, "/api/v1/webhook", "forge.example", "", strings.NewReader(push), "X-Forgejo-Signature", hexMAC(secret, push), "X-Forgejo-Event", "push")
	if good.code != http.StatusAccepted {
		t.Errorf("a signed push: %d %s", good.code, good.body)
	}
	agenttest.WaitUntil(t, 30*time.Second, "the signed push's sync", func() bool { return p.metric("herofleet_syncs_total") > syncs })

	// No webhook_secret_file: refused whatever the signature.
	q := startAgent(t, catalogFleet, nil, options{}, "books")
	none := do(t, "POST", q.api, "/api/v1/webhook", "", "", strings.NewReader(push), "X-Forgejo-Signature", hexMAC("", push))
	if none.code != http.StatusForbidden {
		t.Errorf("no secret file, a push signed under the empty key: %d %s", none.code, none.body)
	}
	logText := p.leaks(secret)
	record(t, Row{
		Attack: "webhook: a push with a missing or forged HMAC",
		Sent: fmt.Sprintf("POST /api/v1/webhook `{\"ref\":\"refs/heads/main\"}` on listen and on webhook_listen with: %d kinds of bad signature "+
			"(none, another body's, another key's, the empty key's, truncated, upper-case hex of a wrong one, the secret itself, `sha256=zz`); "+
			"a push signed under the empty key to an agent with no webhook_secret_file", len(bad)),
		Did: "answered 401 to each and did not sync (hmac.Equal on the raw body's HMAC-SHA256, agent/cockpit/webhook.go, signed); the agent without a " +
			"secret file answered 403; the rightly signed push answered 202 and synced",
		Figure: fmt.Sprintf("%s; no secret file: %d; signed: %d; syncs_total unchanged by the refused ones", codeCounts(codes), none.code, good.code),
		Leaked: leaked(logText),
	})
}

// counting counts the bytes the HTTP client took from a body.
type counting struct {
	r io.Reader
	n atomic.Int64
}

func (c *counting) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A 256 MiB webhook body is refused after its first 4 MiB, on listen and on webhook_listen, signed or not.
func TestWebhookOversizedBody(t *testing.T) {
	const secret = "whsec-big"
	p := startAgent(t, catalogFleet, nil, options{webhookSecret: secret, webhookListen: true}, "books")
	var figs []string
	for _, addr := range []string{p.api, p.hook} {
		body := &counting{r: io.LimitReader(zeros{}, 256<<20)}
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/webhook", body)
		req.ContentLength = 256 << 20
		req.Header.Set("X-Forgejo-Signature", hexMAC(secret, "x"))
		start := time.Now()
		resp, err := client.Do(req)
		code := 0
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		if code == http.StatusOK || code == http.StatusAccepted {
			t.Fatalf("a 256 MiB webhook body on %s was accepted: %d", addr, code)
		}
		if err != nil && code == 0 {
			t.Logf("%s: %v", addr, err)
		}
		sent := body.n.Load()
		if sent > 64<<20 {
			t.Errorf("%s read %d MiB of the body before refusing it", addr, sent>>20)
		}
		what := "listen"
		if addr == p.hook {
			what = "webhook_listen"
		}
		how := fmt.Sprintf("%d", code)
		if code == 0 {
			how = "connection closed"
		}
		figs = append(figs, fmt.Sprintf("%s: %s after %s, %.1f MiB taken from the client", what, how, time.Since(start).Round(time.Millisecond), float64(sent)/(1<<20)))
	}
	if _, err := p.status(); err != nil {
		t.Fatalf("the agent does not answer after the bodies: %v", err)
	}
	record(t, Row{
		Attack: "webhook: an oversized body",
		Sent:   "POST /api/v1/webhook with 256 MiB of zeros (Content-Length announced) on listen and on webhook_listen",
		Did:    "read at most 4 MiB + 1 byte (webhookMaxBody) and answered 413 before checking the signature; the status kept answering",
		Figure: strings.Join(figs, "; ") + " (the client's count includes the sockets' buffers); agent peak RSS " + p.peakRSS(),
		Leaked: "nothing",
	})
}
