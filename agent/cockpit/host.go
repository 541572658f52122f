package cockpit

import (
	"net"
	"net/http"
	"strings"
)

// hostGuard answers only requests whose Host header names this agent: the listener's own address, the host's
// name or address (the config's host and address), or localhost, 127.0.0.1 and ::1; anything else gets 421
// Misdirected Request. This defeats DNS rebinding: a web page at attacker.example that points its name at
// 127.0.0.1 can make a tester's browser connect to the cockpit, but the browser still sends "Host:
// attacker.example", and without the guard the page could read GET /api/v1/status (no token needed) and post
// the answers back home. Syncthing and Jupyter refuse foreign Host headers the same way.
//
// An IP literal is a name of the listener when it is the listener's address, a loopback address, or when the
// listener takes every address (0.0.0.0, ::): a rebinding page needs a name of its own, never an IP literal.
//
// Two routes are not guarded. GET /healthz answers "ok" and nothing else, to probes that may name the host any
// way. POST /api/v1/webhook is authenticated by the HMAC of its body, which a page cannot forge, and Forgejo
// posts with the Host of whatever URL its webhook was given (a name the agent's config need not know): the same
// holds on webhook_listen, which is not guarded at all (ServeWebhook). The read-only metrics_listen is not
// guarded either (ServeReadOnly): Prometheus scrapes it under any name, and it serves only what it is meant to
// publish, with every credential redacted.
func (api *API) hostGuard(ln net.Listener, next http.Handler) http.Handler {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return next // a unix socket: no browser reaches it
	}
	names := map[string]bool{"localhost": true}
	if cfg := api.Agent.Config(); cfg != nil {
		for _, n := range []string{cfg.Host, cfg.Address} {
			if n = hostName(n); n != "" {
				names[n] = true
			}
		}
	}
	own := func(ip net.IP) bool {
		return ip.IsLoopback() || ip.Equal(tcp.IP) || tcp.IP == nil || tcp.IP.IsUnspecified() || names[ip.String()]
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exempt := r.URL.Path == "/healthz" || r.Method == http.MethodPost && r.URL.Path == "/api/v1/webhook"
		if name := hostName(r.Host); exempt || r.Host == "" || names[name] {
			next.ServeHTTP(w, r)
			return
		} else if ip := net.ParseIP(name); ip != nil && own(ip) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMisdirectedRequest)
		_, _ = w.Write([]byte("421 misdirected request: this agent answers only its own names (its address, its host's name, localhost)\n"))
	})
}

// hostName is the host part of a Host header or of the config's address ("[::1]:7070", "tester-07.", "TESTER-07"),
// lower case, without brackets, port or final dot.
func hostName(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}
