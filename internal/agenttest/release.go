package agenttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/herofleet/herofleet/packaging"
)

// AgentRelease is herofleet built at several versions, and the release archive of one of them.
type AgentRelease struct {
	Bins    map[string]string // version -> the herofleet built with it
	Archive []byte            // the packed version's release archive for this platform (make release's layout)
	SHA256  string            // its sha256, as fleet.yaml agent: names it
}

// BuildAgentRelease builds cmd/herofleet (pkg: its path from the test's package, e.g. "../../cmd/herofleet") once
// per version into dir/<version>/herofleet, as make release does (-trimpath, no cgo, the version stamped), and
// packs packed's build as the release archive an agent replaces itself with (packaging.WriteArchive).
func BuildAgentRelease(dir, pkg string, versions []string, packed string) (AgentRelease, error) {
	r := AgentRelease{Bins: map[string]string{}}
	for _, v := range versions {
		r.Bins[v] = filepath.Join(dir, v, "herofleet")
		cmd := exec.Command("go", "build", "-trimpath", "-o", r.Bins[v], "-ldflags", "-X main.version="+v, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return r, fmt.Errorf("build herofleet %s: %v\n%s", v, err, out)
		}
	}
	bin, ok := r.Bins[packed]
	if !ok {
		return r, fmt.Errorf("version %s to pack was not built", packed)
	}
	p := filepath.Join(dir, "release-"+packed+".tar.gz")
	if err := packaging.WriteArchive(p, packed, packaging.Target{OS: runtime.GOOS, Arch: runtime.GOARCH}, map[string]string{"herofleet": bin}, time.Unix(0, 0)); err != nil {
		return r, err
	}
	var err error
	if r.Archive, err = os.ReadFile(p); err != nil {
		return r, err
	}
	h := sha256.Sum256(r.Archive)
	r.SHA256 = hex.EncodeToString(h[:])
	return r, nil
}
