package apply

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/artifact"
)

// artifactClient downloads artifacts; the whole download is bounded by the fetch's context, the wait for an answer
// by the transport.
var artifactClient = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: tr}
}()

// artifactFetchTimeout bounds one download and unpack, like a build's default timeout.
const artifactFetchTimeout = fleet.DefaultBuildTimeout

// fetchArtifact downloads the app's archive (URL rewrites applied), checks its sha256 before unpacking, and
// unpacks it as the revision's tree. The tree is renamed into place only when complete; prepare reuses a tree
// already there (same sha256), so a restarted agent downloads nothing.
func (r *Runner) fetchArtifact(ctx context.Context, t *Target, progress io.Writer) error {
	art := t.app.Artifact
	url := r.cfg.Rewrite(art.URL)
	tmp := t.buildDir + ".fetch"
	for _, p := range []string{t.buildDir, tmp} { // left by a fetch killed half-way
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean build dir: %w", err)
		}
	}
	fmt.Fprintf(progress, "herofleet: fetch %s artifact %s (sha256 %s)\n", t.app.Name, url, t.rev)
	ctx, cancel := context.WithTimeout(ctx, artifactFetchTimeout)
	defer cancel()
	if err := artifact.Fetch(ctx, artifactClient, url, t.rev, tmp, artifact.DefaultLimits); err != nil {
		return fmt.Errorf("fetch artifact: %w", err)
	}
	marker := filepath.Join(tmp, build.DoneMarker)
	if err := os.RemoveAll(marker); err != nil { // the archive's own, if any: ours is written below
		return fmt.Errorf("mark artifact: %w", err)
	}
	if err := os.WriteFile(marker, []byte(t.rev+"\n"), 0o644); err != nil {
		return fmt.Errorf("mark artifact: %w", err)
	}
	if err := os.Rename(tmp, t.buildDir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("artifact tree: %w", err)
	}
	return nil
}
