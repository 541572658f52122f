package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// checkMission checks, through the URLs a person would click, what the fleet is for: Hero Books lists its four
// seeded libraries; the tester's voice bar is connected to the shared engine as its own tester, with the token
// `secrets issue` gave it; the engine refuses any other token; and once the tester is revoked (one fleet commit),
// its voice bar shows refused.
func checkMission(ctx context.Context, out io.Writer, g *gitserver.Server, fleetDir string, f *fleet.Fleet, hosts []*host, eps []endpoint) error {
	books, err := page(ctx, eps, testerHost+" hero_books_web", "")
	if err != nil {
		return err
	}
	libs := seededLibraries(f, "books")
	for _, lib := range libs {
		if !strings.Contains(books, "<li>"+lib+"</li>") {
			return fmt.Errorf("demo check: the Hero Books page does not list library %s:\n%s", lib, books)
		}
	}
	fmt.Fprintf(out, "check  %s: Hero Books lists its %d libraries: %s\n", testerHost, len(libs), strings.Join(libs, ", "))

	bar, err := page(ctx, eps, testerHost+" hero_voicebar_web", "")
	if err != nil {
		return err
	}
	if want := "connected as tester " + testerHost; !strings.Contains(bar, want) {
		return fmt.Errorf("demo check: the voice bar page does not say %q:\n%s", want, bar)
	}
	for _, h := range hosts {
		if tok, err := os.ReadFile(filepath.Join(h.dir, "secrets", voiceToken)); err == nil && strings.Contains(bar, strings.TrimSpace(string(tok))) {
			return fmt.Errorf("demo check: the voice bar page shows its token")
		}
	}
	fmt.Fprintf(out, "check  %s: the voice bar is connected to the engine as tester %s\n", testerHost, testerHost)
	if _, err := page(ctx, eps, engineHost+" hero_voice_server", "not-a-token"); err == nil || !strings.Contains(err.Error(), "401") {
		return fmt.Errorf("demo check: the voice engine did not refuse an unknown token: %v", err)
	}
	fmt.Fprintf(out, "check  %s: the voice engine refuses a token it was not given (401)\n", engineHost)

	// One fleet commit revokes the tester: the engine's hashes lose its token.
	if err := issue(fleetDir, testerHost); err != nil {
		return err
	}
	files, err := fleetFiles(os.DirFS(fleetDir))
	if err != nil {
		return err
	}
	commit, err := g.Commit("ops/hero-fleet", "main", "secrets issue voice-token --revoke "+testerHost, files)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if err := h.agent.SyncNow(ctx); err != nil {
			return fmt.Errorf("demo check: %s did not sync the revocation: %w", h.name, err)
		}
		if st := h.agent.Status(); st.Fleet.Commit != commit {
			return fmt.Errorf("demo check: %s runs %s, not the revocation %s (%s)", h.name, st.Fleet.Commit, commit, st.Fleet.Error)
		}
	}
	bar, err = page(ctx, eps, testerHost+" hero_voicebar_web", "")
	if err != nil {
		return err
	}
	if !strings.Contains(bar, "refused (401") {
		return fmt.Errorf("demo check: after the revocation the voice bar page does not show refused:\n%s", bar)
	}
	fmt.Fprintf(out, "check  %s: revoked in commit %.7s, its voice bar shows the engine refused it\n", testerHost, commit)
	return nil
}

// seededLibraries names the libraries app's seed-git hooks clone.
func seededLibraries(f *fleet.Fleet, app string) []string {
	var out []string
	for _, h := range f.Apps[app].Hooks {
		if h.Plugin != "seed-git" {
			continue
		}
		repos, _ := h.With["repos"].([]any)
		for _, item := range repos {
			if r, ok := item.(map[string]any); ok {
				if name, ok := r["name"].(string); ok {
					out = append(out, name)
				}
			}
		}
	}
	return out
}

// page GETs the endpoint named what, as a browser would (a bearer token when given, on /v1/whoami); an answer that
// is not 200 is an error naming its status.
func page(ctx context.Context, eps []endpoint, what, bearer string) (string, error) {
	for _, ep := range eps {
		if ep.what != what {
			continue
		}
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, ep.network, ep.addr)
		}, DisableKeepAlives: true}
		url := ep.url
		if bearer != "" {
			url = strings.TrimRight(url, "/") + "/v1/whoami"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return "", fmt.Errorf("demo check: %s: %w", what, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return string(body), fmt.Errorf("demo check: %s: %s", what, resp.Status)
		}
		return string(body), nil
	}
	return "", fmt.Errorf("demo check: no URL for %s", what)
}
