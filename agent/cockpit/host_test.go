package cockpit

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/agent"
)

// serveOn serves one of the agent's listeners on 127.0.0.1 until the test ends and returns its address.
func serveOn(t *testing.T, serve func(context.Context, net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return ln.Addr().String()
}

// ask sends method path to addr with the given Host header and returns the status code.
func ask(t *testing.T, addr, method, path, host string) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// The cockpit answers only Host headers that name the agent: a page using DNS rebinding (its own name pointed at
// 127.0.0.1) reaches the listener but cannot read the status. The webhook (HMAC) and /healthz answer any Host,
// and so do webhook_listen and the read-only metrics_listen.
func TestCockpitAnswersOnlyItsOwnHostNames(t *testing.T) {
	h := newHarness(t)
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
`)
	a := h.newAgent(func(c *agent.Config) { c.Host, c.Address = "tester-07", "[4a5:1c2::7]" })
	api := NewAPI(a, testToken)
	main := serveOn(t, api.Serve)
	_, port, _ := net.SplitHostPort(main)
	for _, tt := range []struct {
		method, path, host string
		want               int // 0: anything but 421
	}{
		{"GET", "/api/v1/status", "attacker.example", 421},
		{"GET", "/api/v1/status", "attacker.example:" + port, 421},
		{"GET", "/api/v1/apps", "attacker.example", 421},
		{"GET", "/", "attacker.example", 421},
		{"GET", "/metrics", "attacker.example", 421},
		{"POST", "/api/v1/sync", "attacker.example", 421},
		{"GET", "/api/v1/status", "127.0.0.1.attacker.example", 421},
		{"GET", "/api/v1/status", "localhost.attacker.example", 421},
		{"GET", "/api/v1/status", "10.1.2.3:" + port, 421}, // an address the listener does not have
		{"GET", "/api/v1/status", main, 200},
		{"GET", "/", main, 200},
		{"GET", "/api/v1/status", "localhost:" + port, 200},
		{"GET", "/api/v1/status", "LOCALHOST", 200},
		{"GET", "/api/v1/status", "[::1]:" + port, 200},
		{"GET", "/api/v1/status", "127.0.0.1", 200},
		{"GET", "/api/v1/status", "tester-07:" + port, 200},
		{"GET", "/api/v1/status", "Tester-07.", 200},
		{"GET", "/api/v1/status", "[4a5:1c2::7]:" + port, 200},
		{"GET", "/healthz", "attacker.example", 200},
		{"POST", "/api/v1/webhook", "attacker.example", 0}, // refused for its missing signature, not for its Host
	} {
		got := ask(t, main, tt.method, tt.path, tt.host)
		if tt.want == 0 && got == http.StatusMisdirectedRequest || tt.want != 0 && got != tt.want {
			t.Errorf("%s %s with Host %q: %d, want %d", tt.method, tt.path, tt.host, got, tt.want)
		}
	}

	metrics := serveOn(t, api.ServeReadOnly)
	for _, path := range []string{"/metrics", "/api/v1/status"} {
		if got := ask(t, metrics, "GET", path, "attacker.example"); got != 200 {
			t.Errorf("metrics_listen GET %s with a foreign Host: %d, want 200 (read-only and redacted, any Host)", path, got)
		}
	}
	webhook := serveOn(t, api.ServeWebhook)
	if got := ask(t, webhook, "POST", "/api/v1/webhook", "forgejo-sees-me-as.example"); got == http.StatusMisdirectedRequest {
		t.Errorf("webhook_listen refused a foreign Host: %d", got)
	}
}

// A listener on every address (0.0.0.0, ::) is reached by any of the host's IP literals; a name still has to be
// the host's own.
func TestHostGuardOnEveryAddress(t *testing.T) {
	h := newHarness(t)
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
`)
	api := NewAPI(h.newAgent(), testToken)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	for _, addr := range []net.IP{net.IPv4zero, net.IPv6unspecified} {
		guard := api.hostGuard(fakeListener{&net.TCPAddr{IP: addr, Port: 7070}}, ok)
		for host, want := range map[string]int{"10.1.2.3:7070": 200, "[2001:db8::5]:7070": 200, "attacker.example:7070": 421} {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/api/v1/status", nil)
			r.Host = host
			guard.ServeHTTP(w, r)
			if w.Code != want {
				t.Errorf("listening on %s, Host %s: %d, want %d", addr, host, w.Code, want)
			}
		}
	}
}

type fakeListener struct{ addr net.Addr }

func (fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr          { return l.addr }
