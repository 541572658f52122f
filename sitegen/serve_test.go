package sitegen

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeRebuildsAndTellsPagesToReload(t *testing.T) {
	src := t.TempDir()
	page := filepath.Join(src, "index.md")
	if err := os.WriteFile(page, []byte("# Home\n\nfirst version\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	built := make(chan error, 100)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{
			Listener: ln,
			Watch:    []string{src},
			Interval: 10 * time.Millisecond,
			Built:    func(err error) { built <- err },
			Load: func(context.Context) (Site, error) {
				pages, files, err := ReadDir(os.DirFS(src))
				return Site{Title: "live", Pages: pages, Files: files}, err
			},
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()

	body := get(t, base+"/")
	if !strings.Contains(body, "first version") || !strings.Contains(body, `data-livereload="`+LiveReloadPath+`"`) {
		t.Fatalf("first page lacks content or live reload hook:\n%s", body)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+LiveReloadPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	if line, _ := events.ReadString('\n'); !strings.HasPrefix(line, ": connected") {
		t.Fatalf("unexpected first event line %q", line)
	}

	writeAtomic(t, page, "# Home\n\nsecond, longer version\n")
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream ended before a reload: %v", err)
		}
		if line == "event: reload\n" {
			break
		}
	}
	if body := get(t, base+"/index.html"); !strings.Contains(body, "second, longer version") {
		t.Fatalf("page not rebuilt:\n%s", body)
	}

	// Pages are answered where the links point, without a redirect; nothing outside the build is served.
	if body := get(t, base+"/index.html"); !strings.Contains(body, "<!DOCTYPE html>") {
		t.Fatalf("index.html not served directly:\n%s", body)
	}
	for _, p := range []string{"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/nope.html"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}

	// A broken edit keeps the last good site.
	writeAtomic(t, page, "# Home\n\n[broken](nowhere.md)\n")
	for err := range built {
		if err != nil {
			if !strings.Contains(err.Error(), `index.md:3: broken link "nowhere.md"`) {
				t.Fatalf("rebuild error = %v", err)
			}
			break
		}
	}
	if body := get(t, base+"/"); !strings.Contains(body, "second, longer version") {
		t.Fatalf("last good site not served:\n%s", body)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeAtomic replaces a file in one step, so that the poller never sees it half written (which would be a valid,
// different site).
func writeAtomic(t *testing.T, dst, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(dst), ".tmp-"+filepath.Base(dst))
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}
