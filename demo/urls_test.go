package demo

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// endpointOf is an endpoint for a test server, over TCP.
func endpointOf(what string, srv *httptest.Server) endpoint {
	return endpoint{what: what, url: srv.URL + "/", network: "tcp", addr: strings.TrimPrefix(srv.URL, "http://")}
}

func status(code int, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprintf(w, "%s %s auth=%q", body, r.URL.Path, r.Header.Get("Authorization"))
	}))
}

// --check GETs every URL it printed: all 2xx is a pass that counts them, anything else fails naming each.
func TestCheckURLs(t *testing.T) {
	ok := status(http.StatusOK, "fine")
	defer ok.Close()
	created := status(http.StatusNoContent, "")
	defer created.Close()
	broken := status(http.StatusInternalServerError, "boom")
	defer broken.Close()
	unix := unixServer(t)
	down := endpoint{what: "demo-tester gone", url: "http://127.0.0.1:1/", network: "tcp", addr: "127.0.0.1:1"}
	tests := []struct {
		name    string
		eps     []endpoint
		out     string   // what it prints on a pass
		failing []string // the endpoints named in the error
	}{
		{name: "every URL answers", eps: []endpoint{endpointOf("demo-tester agent", ok), endpointOf("demo-tester hero_books_web", created), unix},
			out: "check: all 3 URLs answered 200\n"},
		{name: "a 500 and a refused connection", eps: []endpoint{endpointOf("a", ok), endpointOf("demo-admin hero_voice_server", broken), down},
			failing: []string{"demo-admin hero_voice_server: 500 Internal Server Error", "demo-tester gone: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := checkURLs(context.Background(), &out, tt.eps)
			if tt.failing == nil {
				if err != nil || out.String() != tt.out {
					t.Errorf("err %v, printed %q, want %q", err, out.String(), tt.out)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "demo check failed:\n  ") {
				t.Fatalf("err = %v, want the demo check to fail", err)
			}
			for _, f := range tt.failing {
				if !strings.Contains(err.Error(), "\n  "+f) {
					t.Errorf("err %q does not name %q", err, f)
				}
			}
			if strings.Count(err.Error(), "\n  ") != len(tt.failing) || out.Len() != 0 {
				t.Errorf("err %q, printed %q: want only the failing endpoints, nothing printed", err, out.String())
			}
		})
	}
}

// unixServer is a binary listening on a unix socket, as the demo's apps may.
func unixServer(t *testing.T) endpoint {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "web.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "over the socket") })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return endpoint{what: "demo-tester hero_notes_web", url: "unix:" + sock, network: "unix", addr: sock}
}

// page is what a person sees at a named URL: its body, or an error naming the status; with a bearer token it
// asks /v1/whoami with it.
func TestPage(t *testing.T) {
	ok := status(http.StatusOK, "Hero Books")
	defer ok.Close()
	refused := status(http.StatusUnauthorized, "no")
	defer refused.Close()
	eps := []endpoint{endpointOf("demo-tester hero_books_web", ok), endpointOf("demo-admin hero_voice_server", refused)}
	tests := []struct {
		name, what, bearer string
		body, err          string // parts of each; err "" for none
	}{
		{name: "the page", what: "demo-tester hero_books_web", body: `Hero Books / auth=""`},
		{name: "with a token: whoami", what: "demo-tester hero_books_web", bearer: "t0k", body: `Hero Books /v1/whoami auth="Bearer t0k"`},
		{name: "refused", what: "demo-admin hero_voice_server", bearer: "not-a-token", body: "no /v1/whoami",
			err: "demo check: demo-admin hero_voice_server: 401 Unauthorized"},
		{name: "no such URL", what: "demo-tester hero_voicebar_web", err: "demo check: no URL for demo-tester hero_voicebar_web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := page(context.Background(), eps, tt.what, tt.bearer)
			if !strings.Contains(body, tt.body) {
				t.Errorf("body %q, want %q in it", body, tt.body)
			}
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
		})
	}
}
