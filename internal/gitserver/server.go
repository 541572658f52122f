package gitserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"slices"
	"sync"
	"time"
)

// Backend is Debian's git smart-HTTP CGI program.
const Backend = "/usr/lib/git-core/git-http-backend"

// Server serves every bare repository under Root at URL()+"<name>.git".
type Server struct {
	Root string

	mu   sync.Mutex
	addr string // kept across Stop/Start so URLs stay valid
	srv  *http.Server

	logMu    sync.Mutex
	requests []string // "GET /ops/fleet.git/info/refs?service=git-upload-pack", in arrival order
}

// maxLogged bounds the request log: a benchmark's forge serves millions of requests.
const maxLogged = 100_000

// Requests lists the requests served since the last ResetRequests (at most maxLogged), as "METHOD PATH?QUERY":
// what a client cost the forge, request by request.
func (s *Server) Requests() []string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.requests = nil
	s.logMu.Unlock()
}

func (s *Server) logRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		s.logMu.Lock()
		if len(s.requests) < maxLogged {
			s.requests = append(s.requests, line)
		}
		s.logMu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Start serves root on 127.0.0.1 (a fresh port the first time, the same port after a Stop).
func Start(root string) (*Server, error) {
	if _, err := os.Stat(Backend); err != nil {
		return nil, fmt.Errorf("git http-backend: %w", err)
	}
	s := &Server{Root: root, addr: "127.0.0.1:0"}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start (re)opens the listener. It is a no-op when the server already runs.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	var ln net.Listener
	var err error
	// After a Stop the old port can linger briefly in the kernel; retry for a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("git server listen: %w", err)
	}
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: s.logRequest(Handler(s.Root)), ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener is gone; Stop or a test's end closed it
		}
	}(s.srv)
	return nil
}

// Handler serves every bare repository under root over git's smart HTTP, through Debian's git http-backend.
func Handler(root string) http.Handler {
	return &cgi.Handler{
		Path: Backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
}

// Stop closes the listener and every open connection: clients see "connection refused" until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	s.srv = nil
}

// URL is the base URL of the server, ending in "/": a repository is URL()+"<name>.git".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr + "/"
}

// RepoURL is the clone URL of the repository named name (without ".git").
func (s *Server) RepoURL(name string) string { return s.URL() + name + ".git" }
