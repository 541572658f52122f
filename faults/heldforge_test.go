package faults

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// heldForge stands between an agent and its forge on loopback and passes every request through, except while it
// holds a repository: then a fetch of it (POST <repo>/git-upload-pack) gets the first half of the forge's answer
// (the client has started writing the pack) and waits there until released. It is how a test puts the agent,
// or a plugin, reliably in the middle of a fetch.
type heldForge struct {
	t        *testing.T
	upstream string // the forge, "http://127.0.0.1:port/"
	srv      *httptest.Server

	mu   sync.Mutex
	repo string        // path of the held repository, "/apps/books.git/"; "" when nothing is held
	gate chan struct{} // closed by release
	held chan struct{} // closed when the first request waits at the gate
	once *sync.Once    // closes held once
}

func startHeldForge(t *testing.T, upstream string) *heldForge {
	h := &heldForge{t: t, upstream: strings.TrimSuffix(upstream, "/")}
	h.srv = httptest.NewServer(h)
	t.Cleanup(func() { h.release(); h.srv.Close() })
	return h
}

// URL is the base URL to give the agent instead of the forge's.
func (h *heldForge) URL() string { return h.srv.URL + "/" }

// hold makes fetches of repo ("apps/books") wait half-way until release.
func (h *heldForge) hold(repo string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repo, h.gate, h.held, h.once = "/"+repo+".git/", make(chan struct{}), make(chan struct{}), new(sync.Once)
}

// release lets every held fetch finish and holds nothing any more.
func (h *heldForge) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gate != nil {
		close(h.gate)
	}
	h.repo, h.gate = "", nil
}

// waitHeld waits until a fetch of the held repository waits at the gate.
func (h *heldForge) waitHeld(timeout time.Duration) {
	h.t.Helper()
	h.mu.Lock()
	held := h.held
	h.mu.Unlock()
	select {
	case <-held:
	case <-time.After(timeout):
		h.t.Fatalf("no fetch of %s reached the forge within %s", h.repo, timeout)
	}
}

func (h *heldForge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, h.upstream+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.ContentLength = r.ContentLength // git http-backend (CGI) reads CONTENT_LENGTH: no chunked body
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	h.mu.Lock()
	gate, held, once := h.gate, h.held, h.once
	hold := h.repo != "" && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, h.repo) && strings.HasSuffix(r.URL.Path, "/git-upload-pack")
	h.mu.Unlock()
	if !hold {
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	w.Header().Del("Content-Length")
	w.WriteHeader(resp.StatusCode)
	half := len(body) / 2
	_, _ = w.Write(body[:half])
	w.(http.Flusher).Flush()
	once.Do(func() { close(held) })
	select {
	case <-gate:
		_, _ = io.Copy(w, bytes.NewReader(body[half:]))
	case <-r.Context().Done(): // the client went away (a killed agent)
	}
}
