package packaging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Target is one platform a release is built for.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "/" + t.Arch }

// DefaultTargets are the platforms of a release: the VMs herofleet runs on.
var DefaultTargets = []Target{{"linux", "amd64"}, {"linux", "arm64"}}

// Release builds one commit into, per target, a tar.gz archive and a Debian package, plus SHA256SUMS. The same
// inputs give byte-identical files: binaries built with -trimpath and without VCS stamping (the version and commit
// are set by -ldflags), entries sorted, owners root, every time set to Time.
type Release struct {
	Dir      string    // the module's root
	Out      string    // where the release files go
	Version  string    // e.g. v1.4.0; stamped into herofleet version and the file names
	Commit   string    // stamped into herofleet version
	Time     time.Time // the time of every file in the archives (the commit's time)
	Targets  []Target
	Binaries []string // main packages, by path from Dir ("./cmd/herofleet"); the first is herofleet itself
	Docs     []string // files from Dir shipped as documentation (README.md, docs/provisioning.md)
	Go       string   // the go command ("go")
	Log      *slog.Logger
}

// Artifact is one file of a release.
type Artifact struct {
	Name   string // file name in Out
	SHA256 string
	Size   int64
}

// SumsFile lists every artifact's sha256 in the format of sha256sum(1).
const SumsFile = "SHA256SUMS"

// Build runs the release: for each target, build the binaries, then write the archive and the package; last,
// the checksums. It returns the artifacts in file name order.
func (r *Release) Build(ctx context.Context) ([]Artifact, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Out, 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp("", "herofleet-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)

	bins := r.present()
	var names []string
	for _, t := range r.Targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := filepath.Join(stage, t.OS+"_"+t.Arch)
		built, err := r.buildBinaries(ctx, t, bins, dir)
		if err != nil {
			return nil, err
		}
		files, err := r.layout(built)
		if err != nil {
			return nil, err
		}
		archive := fmt.Sprintf("herofleet_%s_%s_%s.tar.gz", r.Version, t.OS, t.Arch)
		if err := writeTarGz(filepath.Join(r.Out, archive), strings.TrimSuffix(archive, ".tar.gz"), files, r.Time); err != nil {
			return nil, fmt.Errorf("%s: %w", archive, err)
		}
		deb, err := r.writeDeb(t, files)
		if err != nil {
			return nil, err
		}
		names = append(names, archive, deb)
		r.Log.Info("release target done", "target", t.String(), "archive", archive, "deb", deb)
	}
	return r.writeSums(names)
}

func (r *Release) check() error {
	var probs []string
	if r.Version == "" || strings.ContainsAny(r.Version, "/ \t\n") {
		probs = append(probs, fmt.Sprintf("version %q: want a name for files, like v1.4.0", r.Version))
	}
	if r.Time.IsZero() {
		probs = append(probs, "no time for the archives' entries (the commit's time)")
	}
	if len(r.Targets) == 0 || len(r.Binaries) == 0 {
		probs = append(probs, "nothing to build: no targets or no binaries")
	}
	if r.Go == "" {
		r.Go = "go"
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if len(probs) > 0 {
		return errors.New("release: " + strings.Join(probs, "; "))
	}
	return nil
}

// present is the binaries whose package exists; herofleet itself must, a plugin that is not written yet is
// skipped with a message.
func (r *Release) present() []string {
	var out []string
	for i, pkg := range r.Binaries {
		if _, err := os.Stat(filepath.Join(r.Dir, filepath.FromSlash(pkg))); err != nil && i > 0 {
			r.Log.Warn("skipping a binary whose package is missing", "package", pkg)
			continue
		}
		out = append(out, pkg)
	}
	return out
}

// buildBinaries runs go build for one target; it returns the built files by name.
func (r *Release) buildBinaries(ctx context.Context, t Target, pkgs []string, dir string) (map[string]string, error) {
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s", r.Version, r.Commit)
	built := map[string]string{}
	for _, pkg := range pkgs {
		name := path.Base(pkg)
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(ctx, r.Go, "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg)
		cmd.Dir = r.Dir
		cmd.Env = append(os.Environ(), "GOOS="+t.OS, "GOARCH="+t.Arch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s for %s: %w\n%s", pkg, t, err, b)
		}
		built[name] = out
	}
	return built, nil
}

// file is one file of a release, by its place in the archive and in the Debian package.
type file struct {
	name   string // slash path inside the archive
	deb    string // absolute path where the Debian package installs it
	source string // on disk
	data   []byte // or these bytes
	mode   fs.FileMode
}

// layout places the built binaries, service files and docs:
//
//	archive                           Debian package
//	herofleet                         /usr/bin/herofleet
//	plugins/herofleet-plugin-*        /usr/lib/herofleet/plugins/
//	systemd/herofleet-agent.service   /lib/systemd/system/
//	zinit/herofleet-agent.yaml        /usr/share/doc/herofleet/zinit/ (bootstrap writes /etc/zinit/)
//	README.md, docs/…                 /usr/share/doc/herofleet/
func (r *Release) layout(built map[string]string) ([]file, error) {
	var files []file
	for name, src := range built {
		f := file{name: name, deb: "/usr/bin/" + name, source: src, mode: 0o755}
		if strings.HasPrefix(name, "herofleet-plugin-") {
			f.name, f.deb = "plugins/"+name, "/usr/lib/herofleet/plugins/"+name
		}
		files = append(files, f)
	}
	svc := Packaged
	unit, err := svc.SystemdUnit()
	if err != nil {
		return nil, err
	}
	zinit, err := svc.ZinitService()
	if err != nil {
		return nil, err
	}
	files = append(files,
		file{name: "systemd/" + ServiceName + ".service", deb: "/lib/systemd/system/" + ServiceName + ".service", data: unit, mode: 0o644},
		file{name: "zinit/" + ServiceName + ".yaml", deb: "/usr/share/doc/herofleet/zinit/" + ServiceName + ".yaml", data: zinit, mode: 0o644})
	for _, d := range r.Docs {
		files = append(files, file{name: d, deb: "/usr/share/doc/herofleet/" + path.Base(d),
			source: filepath.Join(r.Dir, filepath.FromSlash(d)), mode: 0o644})
	}
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	return files, nil
}

func (r *Release) writeSums(names []string) ([]Artifact, error) {
	slices.Sort(names)
	var arts []Artifact
	var sums strings.Builder
	for _, n := range names {
		a, err := hashFile(filepath.Join(r.Out, n))
		if err != nil {
			return nil, err
		}
		a.Name = n
		arts = append(arts, a)
		fmt.Fprintf(&sums, "%s  %s\n", a.SHA256, n)
	}
	if err := os.WriteFile(filepath.Join(r.Out, SumsFile), []byte(sums.String()), 0o644); err != nil {
		return nil, err
	}
	return arts, nil
}

func hashFile(p string) (Artifact, error) {
	f, err := os.Open(p)
	if err != nil {
		return Artifact{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Artifact{}, err
	}
	return Artifact{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
