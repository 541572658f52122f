package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// Forge is the lab's forge on the bridge: the fleet repo and the app repos over git's smart HTTP (Debian's git
// http-backend), and the artifacts herofleet build made once for the fleet under /artifacts/.
type Forge struct {
	Dir       string
	Git       *gitserver.Server // the repositories (Git.Root); served by this forge, not by Git itself
	Artifacts string

	srv  *http.Server
	mu   sync.Mutex
	gets map[string][]string // artifact downloads by the client's address
}

// StartForge serves dir on the bridge's forge address.
func StartForge(dir string) (*Forge, error) {
	f := &Forge{Dir: dir, Git: &gitserver.Server{Root: filepath.Join(dir, "git")}, Artifacts: filepath.Join(dir, "artifacts"),
		gets: map[string][]string{}}
	for _, d := range []string{f.Git.Root, f.Artifacts} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The bridge's address has no duplicate address detection, but the kernel may take a moment to bind it.
		if ln, err = net.Listen("tcp", net.JoinHostPort(ForgeAddr, ForgePort)); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("forge: %w", err)
	}
	mux := http.NewServeMux()
	files := http.StripPrefix("/artifacts/", http.FileServer(http.Dir(f.Artifacts)))
	mux.Handle("/artifacts/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		f.mu.Lock()
		f.gets[host] = append(f.gets[host], r.URL.Path)
		f.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	mux.Handle("/", gitserver.Handler(f.Git.Root))
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // closed by Stop
		}
	}()
	return f, nil
}

// URL is the forge's base URL, ending in "/".
func (f *Forge) URL() string { return "http://" + net.JoinHostPort(ForgeAddr, ForgePort) + "/" }

// FleetURL is the fleet repo's clone URL.
func (f *Forge) FleetURL() string { return f.URL() + FleetRepo + ".git" }

// FleetRepo is the fleet repo's name on the forge.
const FleetRepo = "ops/hero-fleet"

// Downloads lists the artifact paths the machine at addr has downloaded.
func (f *Forge) Downloads(addr string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.gets[addr]...)
}

// Stop closes the forge.
func (f *Forge) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		_ = f.srv.Close()
	}
}

// CommitFleet commits the whole fleet dir as the fleet repo's next commit on main.
func (f *Forge) CommitFleet(dir, msg string) (string, error) {
	files, err := gitserver.ReadFiles(os.DirFS(dir))
	if err != nil {
		return "", err
	}
	return f.Git.Commit(FleetRepo, "main", msg, files)
}

// artifactName is the archive of app at commit under /artifacts/.
func artifactName(app, commit string) string { return app + "-" + commit[:12] + ".tar.gz" }

// trimNL is s without its trailing newline.
func trimNL(s string) string { return strings.TrimRight(s, "\n") }
