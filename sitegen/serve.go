package sitegen

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LiveReloadPath is the server-sent events endpoint pages listen on under Serve.
const LiveReloadPath = "/_sitegen/reload"

// ServeOptions configures Serve.
type ServeOptions struct {
	// Listener to serve on; when nil, Addr is listened on (default 127.0.0.1:1313).
	Listener net.Listener
	Addr     string
	// Load produces the site; it is called at start and after every change under Watch.
	Load func(ctx context.Context) (Site, error)
	// Watch lists files and directories polled for changes (by path, size and mtime).
	Watch []string
	// Interval between polls; default 500ms.
	Interval time.Duration
	Logger   *slog.Logger
	Builder  Builder
	// Built, when set, is called after every rebuild that a change triggered, with its error (nil: the new site
	// is being served).
	Built func(error)
}

// Serve builds the site, serves it over HTTP and rebuilds it when a watched file changes, telling open pages to
// reload. A failed rebuild keeps the last good site and is logged. Serve returns when ctx ends.
func Serve(ctx context.Context, opts ServeOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = 500 * time.Millisecond
	}
	opts.Builder.LiveReload = LiveReloadPath
	opts.Builder.Logger = opts.Logger
	ln := opts.Listener
	if ln == nil {
		addr := opts.Addr
		if addr == "" {
			addr = "127.0.0.1:1313"
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "sitegen-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	s := &server{opts: opts, tmp: tmp, clients: map[chan struct{}]bool{}}
	stamp := fingerprint(opts.Watch)
	if err := s.rebuild(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(LiveReloadPath, s.events)
	mux.HandleFunc("/", s.files)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	opts.Logger.Info("serving site", "url", "http://"+ln.Addr().String()+"/")

	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.closeClients()
			shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutCtx)
			return nil
		case err := <-errc:
			return err
		case <-tick.C:
			now := fingerprint(opts.Watch)
			if now == stamp {
				continue
			}
			stamp = now
			err := s.rebuild(ctx)
			if err != nil {
				opts.Logger.Error("rebuild failed; serving the last good site", "err", err)
			} else {
				s.notify()
			}
			if opts.Built != nil {
				opts.Built(err)
			}
		}
	}
}

type server struct {
	opts ServeOptions
	tmp  string
	gen  int

	mu      sync.Mutex
	current string // directory of the last good build
	clients map[chan struct{}]bool
}

// rebuild builds into a fresh directory and swaps it in only when the build succeeded.
func (s *server) rebuild(ctx context.Context) error {
	site, err := s.opts.Load(ctx)
	if err != nil {
		return fmt.Errorf("load site: %w", err)
	}
	s.gen++
	dir := filepath.Join(s.tmp, strconv.Itoa(s.gen))
	start := time.Now()
	if err := s.opts.Builder.Build(ctx, site, dir); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	s.mu.Lock()
	old := s.current
	s.current = dir
	s.mu.Unlock()
	if old != "" {
		_ = os.RemoveAll(old)
	}
	s.opts.Logger.Info("site built", "pages", len(site.Pages), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// files serves the current build. Unlike http.FileServer it answers ".../index.html" directly instead of
// redirecting, since every link of the site names index.html. os.Root keeps requests inside the build directory.
func (s *server) files(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	dir := s.current
	s.mu.Unlock()
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || strings.HasSuffix(r.URL.Path, "/") {
		name = path.Join(name, "index.html")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		http.Error(w, "site not available", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.IsDir() {
		if err == nil && !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, info.ModTime(), f)
}

func (s *server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.clients[ch] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, ": connected\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case _, open := <-ch:
			if !open {
				return
			}
			fmt.Fprint(w, "event: reload\ndata: reload\n\n")
			fl.Flush()
		}
	}
}

func (s *server) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.clients {
		select {
		case ch <- struct{}{}:
		default: // a reload is already pending for this client
		}
	}
}

func (s *server) closeClients() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.clients {
		close(ch)
		delete(s.clients, ch)
	}
}

// fingerprint summarises path, size and mtime of everything under roots; any change gives a different string.
func fingerprint(roots []string) string {
	var entries []string
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				entries = append(entries, p+" error")
				return nil
			}
			if d.IsDir() && d.Name() == "objects" && filepath.Base(filepath.Dir(p)) == ".git" {
				return fs.SkipDir // refs say when the history moved; objects only grow
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			entries = append(entries, fmt.Sprintf("%s %d %d", p, info.Size(), info.ModTime().UnixNano()))
			return nil
		})
	}
	sort.Strings(entries)
	return strings.Join(entries, "\n")
}
