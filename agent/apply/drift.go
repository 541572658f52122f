package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/artifact"
)

// Drift: what an installed app runs is checked against the manifest recorded when it was installed (manifest.go).
// Each poll makes the cheap check: a stat of each file compared on size, mtime, inode and mode, and the
// /proc/<pid>/exe of each supervised binary (a process that runs an executable deleted or replaced since it
// started). A file whose stat differs is hashed; every file is hashed on the full check's slow schedule, paced to
// the configured rate. The app's data dir is not in the manifest: it never drifts.

// DriftedFile is one file of an installed app that is no longer what was installed.
type DriftedFile struct {
	Path     string      // relative to the build dir
	Exec     bool        // a binary starts it
	Binaries []string    // the binaries concerned: those starting it; every binary for another file of an artifact
	Deleted  bool        // the file is gone
	Want     string      // the installed sha256
	Got      string      // its sha256 now; empty when deleted or unchanged
	WantMode fs.FileMode // the installed mode
	GotMode  fs.FileMode
	ModTime  time.Time // when it was modified; zero when deleted
	Running  bool      // the binary's process runs an executable replaced since it started (the file may be fine)
}

// String says it for a person: "books_server: executable changed on this host since install (sha256 3f2a1c9e… ≠
// installed 9b0d4e11…, modified 14:02:11)".
func (d DriftedFile) String() string {
	subject, what := d.Path, "file"
	if d.Exec {
		subject, what = strings.Join(d.Binaries, ", "), "executable"
	}
	switch {
	case d.Deleted:
		return fmt.Sprintf("%s: %s deleted on this host since install (%s)", subject, what, d.Path)
	case d.Running:
		return fmt.Sprintf("%s: runs an executable replaced on this host since it started (sha256 %s… ≠ installed %s…)", subject, short8(d.Got), short8(d.Want))
	case d.Got != "" && d.Got != d.Want:
		return fmt.Sprintf("%s: %s changed on this host since install (sha256 %s… ≠ installed %s…, modified %s)", subject, what, short8(d.Got), short8(d.Want), clock(d.ModTime))
	}
	return fmt.Sprintf("%s: %s's mode changed on this host since install (%s ≠ installed %s, modified %s)", subject, what, d.GotMode, d.WantMode, clock(d.ModTime))
}

// Same reports the same drift: the same file found changed the same way (path, binaries, hashes, modes, deleted,
// running). When it was modified is not compared: String says that relative to today, so its words change past
// midnight (and with a touch) while the drift stays the one already said.
func (d DriftedFile) Same(o DriftedFile) bool {
	return d.Path == o.Path && d.Exec == o.Exec && slices.Equal(d.Binaries, o.Binaries) && d.Deleted == o.Deleted &&
		d.Want == o.Want && d.Got == o.Got && d.WantMode == o.WantMode && d.GotMode == o.GotMode && d.Running == o.Running
}

// SameDrift reports that two drifts of an app are the same files found changed the same way (DriftedFile.Same).
func SameDrift(a, b []DriftedFile) bool { return slices.EqualFunc(a, b, DriftedFile.Same) }

func short8(sum string) string { return sum[:min(8, len(sum))] }

// clock is a modification time as a person reads it: the time of day, with the date when it is not today.
func clock(t time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == time.Now().Year() && m == time.Now().Month() && d == time.Now().Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

// DriftReason is what an app's drift says, on the app (every file) or on one binary (the files concerning it).
func DriftReason(files []DriftedFile, binary string) api.Reason {
	var parts []string
	for _, f := range files {
		if binary == "" || slices.Contains(f.Binaries, binary) {
			parts = append(parts, f.String())
		}
	}
	if len(parts) == 0 {
		return api.Reason{}
	}
	return api.Reason{Code: api.ReasonDrift, Detail: strings.Join(parts, "; ")}
}

// fingerprint is what the cheap check compares.
type fingerprint struct {
	size  int64
	mode  fs.FileMode
	mtime time.Time
	inode uint64
}

func fingerprintOf(fi fs.FileInfo) fingerprint {
	var e ManifestEntry
	statEntry(&e, fi)
	return fingerprint{e.Size, e.Mode, e.MTime, e.Inode}
}

// driftMemo remembers, by path, a stat that differs from the manifest but whose content was found to be the
// installed one (a touch, a heal's new inode): the cheap check does not hash it again; and a file found drifted,
// with its stat then: it stays drifted while its stat stays so, even when that stat is the manifest's (a change
// only the full check saw). In memory only: after an agent restart such a file is hashed once more.
type driftMemo struct {
	mu   sync.Mutex
	same map[string]fingerprint
	bad  map[string]badFile
	exes map[int]bool      // pids whose replaced executable was hashed and found to be the installed one
	real map[string]string // build dir -> the same with symlinks resolved, as the binaries' paths are
}

// realDir is dir with its symlinks resolved, worked out once per build dir.
func (m *driftMemo) realDir(dir string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.real[dir]; ok {
		return r
	}
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return dir // not kept: tried again next time
	}
	if m.real == nil || len(m.real) > 256 {
		m.real = map[string]string{}
	}
	m.real[dir] = r
	return r
}

// maxMemo bounds each of driftMemo's maps: past it a map starts again empty.
const maxMemo = 4 * MaxManifestFiles

type badFile struct {
	fp fingerprint
	d  DriftedFile
}

func (m *driftMemo) drifted(path string, fp fingerprint) (DriftedFile, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bad[path]
	return b.d, ok && b.fp == fp
}

func (m *driftMemo) setDrifted(path string, fp fingerprint, d DriftedFile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bad == nil || len(m.bad) >= maxMemo {
		m.bad = map[string]badFile{}
	}
	m.bad[path] = badFile{fp, d}
}

func (m *driftMemo) known(path string, fp fingerprint) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.same[path] == fp
}

func (m *driftMemo) remember(path string, fp fingerprint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.bad, path)
	if m.same == nil || len(m.same) >= maxMemo {
		m.same = map[string]fingerprint{} // forgotten files are hashed once more
	}
	m.same[path] = fp
}

// CheckDrift compares what an installed app runs with its manifest: the cheap check, or with full every file
// hashed. An app installed before manifests existed is not checked. It reads only; the caller need not hold the
// app's lane.
func (r *Runner) CheckDrift(inst *Installed, full bool) []DriftedFile {
	if len(inst.Manifest) == 0 {
		return nil
	}
	root := r.drift.realDir(inst.BuildDir)
	starts := map[string][]string{} // executable -> the binaries starting it
	exeOf := map[string]string{}    // binary -> its executable
	var all []string
	for _, p := range inst.Binaries {
		all = append(all, p.Name)
		if rel, err := filepath.Rel(root, p.Path); err == nil {
			rel = filepath.ToSlash(rel)
			starts[rel] = append(starts[rel], p.Name)
			exeOf[p.Name] = rel
		}
	}
	var out []DriftedFile
	for _, e := range inst.Manifest {
		d := DriftedFile{Path: e.Path, Exec: e.Exec, Want: e.SHA256, WantMode: e.Mode, Binaries: starts[e.Path]}
		if !e.Exec || len(d.Binaries) == 0 {
			d.Binaries = all
		}
		path := filepath.Join(root, filepath.FromSlash(e.Path))
		fi, err := os.Lstat(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				d.Deleted = true
				out = append(out, d)
			} else {
				r.log.Warn("drift check", "app", inst.App, "path", path, "err", err)
			}
			continue
		}
		fp := fingerprintOf(fi)
		if bad, ok := r.drift.drifted(path, fp); ok && !full {
			out = append(out, bad)
			continue
		}
		if fp == (fingerprint{e.Size, e.Mode, e.MTime, e.Inode}) && !full {
			continue
		}
		if fp.mode != e.Mode { // a chmod, a symlink or another kind of file: drift whatever the content
			d.GotMode, d.ModTime = fp.mode, fp.mtime
			out = append(out, d)
			continue
		}
		if !full && r.drift.known(path, fp) {
			continue
		}
		sum, err := hashFile(path, r.pace)
		if err != nil {
			r.log.Warn("drift check", "app", inst.App, "path", path, "err", err)
			continue
		}
		if sum == e.SHA256 {
			r.drift.remember(path, fp)
			continue
		}
		d.Got, d.GotMode, d.ModTime = sum, fp.mode, fp.mtime
		r.drift.setDrifted(path, fp, d)
		out = append(out, d)
	}
	return append(out, r.replacedExes(inst, exeOf, out)...)
}

// replacedExes are the binaries of inst whose running process runs an executable deleted or replaced since it
// started, when that executable (read through /proc/<pid>/exe) is not the installed one and the file on disk did
// not drift itself (that is said already).
func (r *Runner) replacedExes(inst *Installed, exeOf map[string]string, files []DriftedFile) []DriftedFile {
	var out []DriftedFile
	if r.sup == nil {
		return nil
	}
	for _, p := range inst.Binaries {
		if slices.ContainsFunc(files, func(f DriftedFile) bool { return f.Exec && slices.Contains(f.Binaries, p.Name) }) {
			continue
		}
		st, ok := r.sup.Status(p.Name)
		if !ok || st.PID <= 0 {
			continue
		}
		exe := "/proc/" + strconv.Itoa(st.PID) + "/exe"
		link, err := os.Readlink(exe)
		if err != nil || link != p.Path+" (deleted)" {
			continue // the installed file, or another program (a script's interpreter)
		}
		r.drift.mu.Lock()
		same := r.drift.exes[st.PID]
		r.drift.mu.Unlock()
		if same {
			continue
		}
		var want ManifestEntry
		for _, e := range inst.Manifest {
			if e.Exec && e.Path == exeOf[p.Name] {
				want = e
				break
			}
		}
		sum, err := hashFile(exe, r.pace)
		if err != nil || want.SHA256 == "" {
			continue
		}
		if sum == want.SHA256 {
			r.drift.mu.Lock()
			if r.drift.exes == nil || len(r.drift.exes) >= maxMemo {
				r.drift.exes = map[int]bool{}
			}
			r.drift.exes[st.PID] = true
			r.drift.mu.Unlock()
			continue
		}
		out = append(out, DriftedFile{Path: want.Path, Exec: true, Binaries: []string{p.Name}, Want: want.SHA256, Got: sum, WantMode: want.Mode, Running: true})
	}
	return out
}

// pace bounds the full check's reads to cfg.DriftReadRate bytes a second (none when 0): the agent's check never
// takes the disk from the apps.
func (r *Runner) pace(n int) {
	rate := r.cfg.DriftReadRate
	if rate <= 0 {
		return
	}
	time.Sleep(time.Duration(float64(n) / float64(rate) * float64(time.Second)))
}

// KeptDrifted is how many copies of replaced files a heal keeps per app, the newest.
const KeptDrifted = 5

// Heal puts back what drifted of an installed app, alone in its lane, and restarts only the binaries concerned:
// each executable from the build dir's pristine copy when that is intact (its sha256 is the manifest's), another
// file of an artifact or an executable whose pristine copy is not intact (changed, or missing) from the installed
// revision made again (t, the app's target on the same revision; nil when not known): the artifact fetched again,
// or the source built again as an install builds it, its pristine copy then made again too. What it replaces is
// kept under <dir>/drift/<app>/ (the newest KeptDrifted). The zero Reason is success; rebuilt then says that the
// revision was built again, and why, for the heal's reasons.
func (r *Runner) Heal(ctx context.Context, inst *Installed, files []DriftedFile, t *Target) (rebuilt string, failed api.Reason) {
	leave, err := r.lanes.Enter(ctx, inst.App)
	if err != nil {
		return "", api.ReasonOf(api.ReasonInterrupted, err)
	}
	defer leave()
	root, err := filepath.EvalSymlinks(inst.BuildDir)
	if err != nil {
		return "", r.healFailed(inst, files, err)
	}
	var fresh string   // the revision made again, for files without an intact pristine copy
	var built []string // the executables put back from it when it was built
	defer func() {
		if fresh != "" {
			os.RemoveAll(fresh)
			os.Remove(fresh + ".log")
			os.Remove(fresh + ".log.1")
		}
	}()
	restart := map[string]bool{}
	for _, f := range files {
		for _, b := range f.Binaries {
			restart[b] = true
		}
		if f.Running {
			continue // the file on disk is the installed one: the restart puts it back
		}
		src := pristinePath(root, f.Path)
		sum, err := hashFile(src, nil)
		if !f.Exec || err != nil || sum != f.Want {
			// another file of an artifact, or an executable whose pristine copy is not intact: made again
			if fresh == "" {
				if fresh, err = r.remake(ctx, inst, t); err != nil {
					if ctx.Err() != nil { // the agent stops: nothing was tried, the next start checks again
						return "", api.ReasonOf(api.ReasonInterrupted, err)
					}
					return "", r.healFailed(inst, files, err)
				}
			}
			src = filepath.Join(fresh, filepath.FromSlash(f.Path))
			sum, err = hashFile(src, nil)
			if t.app.Artifact == nil {
				built = append(built, f.Path)
				if err == nil && sum != f.Want {
					return "", r.healFailed(inst, files, fmt.Errorf("%s built again is not the installed build (sha256 %s… ≠ %s…): its build is not reproducible; reinstall the app", f.Path, short8(sum), short8(f.Want)))
				}
			}
		}
		if err != nil || sum != f.Want {
			return "", r.healFailed(inst, files, fmt.Errorf("no intact copy of %s to put back (%s): reinstall the app", f.Path, orErr(err, "its sha256 differs")))
		}
		dst := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := r.keepDrifted(inst.App, dst); err != nil {
			r.log.Warn("heal: keep a copy of the drifted file", "app", inst.App, "path", dst, "err", err)
		}
		if err := copyFile(src, dst, f.WantMode.Perm()); err != nil {
			return "", r.healFailed(inst, files, err)
		}
		if f.Exec && fresh != "" && strings.HasPrefix(src, fresh) { // its pristine copy was not intact: made again
			if err := keepPristine(root, ManifestEntry{Path: f.Path, Mode: f.WantMode, SHA256: f.Want}); err != nil {
				r.log.Warn("heal: pristine copy", "app", inst.App, "path", f.Path, "err", err)
			}
		}
		for _, e := range inst.Manifest {
			if e.Path == f.Path {
				_ = os.Chtimes(dst, e.MTime, e.MTime)
			}
		}
		if fi, err := os.Lstat(dst); err == nil {
			r.drift.remember(dst, fingerprintOf(fi)) // a new inode, the installed content
		}
	}
	var procs []Proc
	for _, p := range inst.Binaries {
		if restart[p.Name] {
			procs = append(procs, p)
		}
	}
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.Name
	}
	r.stopNames(ctx, names)
	sub := &Installed{App: inst.App, Binaries: procs}
	if err := r.Start(ctx, sub); err != nil {
		return "", r.healFailed(inst, files, err)
	}
	if err := r.wait(ctx, sub); err != nil {
		return "", r.healFailed(inst, files, err)
	}
	if len(built) > 0 {
		rebuilt = fmt.Sprintf("rebuilt %s: no intact pristine copy of %s", fleet.ShortRev(inst.Rev), strings.Join(built, ", "))
	}
	r.log.Info("healed: drift put back", "app", inst.App, "restarted", names, "kept", r.driftDir(inst.App), "rebuilt", len(built) > 0)
	return rebuilt, api.Reason{}
}

func orErr(err error, alt string) string {
	if err != nil {
		return err.Error()
	}
	return alt
}

// healFailed is a heal that could not put the app back: its drift is still said, with why.
func (r *Runner) healFailed(inst *Installed, files []DriftedFile, err error) api.Reason {
	reason := DriftReason(files, "")
	reason.Detail += " (not healed: " + err.Error() + ")"
	r.log.Error("heal failed", "app", inst.App, "err", err)
	return reason
}

// remake makes the installed revision again into a temporary dir beside its build dir, for the files a heal has
// no intact pristine copy of: the artifact fetched again (refetch), or the source checked out and built again as an
// install builds it (makeTree).
func (r *Runner) remake(ctx context.Context, inst *Installed, t *Target) (string, error) {
	if t != nil && t.app.Artifact != nil {
		return r.refetch(ctx, inst, t)
	}
	if t == nil || t.repo == nil || t.rev != inst.Rev {
		return "", errors.New("the revision to build again is not known")
	}
	again := *t
	again.buildDir = inst.BuildDir + ".heal"
	r.log.Info("heal: building the installed revision again", "app", inst.App, "rev", fleet.ShortRev(inst.Rev))
	if err := r.makeTree(ctx, &again); err != nil {
		return "", fmt.Errorf("build %s again: %w", fleet.ShortRev(inst.Rev), err)
	}
	return again.buildDir, nil
}

// refetch fetches the app's artifact again into a temporary dir beside its build dir, checked against its sha256.
func (r *Runner) refetch(ctx context.Context, inst *Installed, t *Target) (string, error) {
	if t == nil || t.app.Artifact == nil || t.rev != inst.Rev {
		return "", errors.New("the artifact to fetch again is not known")
	}
	tmp := inst.BuildDir + ".heal"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, artifactFetchTimeout)
	defer cancel()
	if err := artifact.Fetch(ctx, artifactClient, r.cfg.Rewrite(t.app.Artifact.URL), t.rev, tmp, artifact.DefaultLimits); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("fetch artifact again: %w", err)
	}
	return tmp, nil
}

// driftDir keeps, for the person who made them, the files a heal replaced.
func (r *Runner) driftDir(app string) string { return filepath.Join(r.cfg.Dir, "drift", app) }

// keepDrifted links a drifted file (if any) into the app's drift dir as <UTC time>-<name> (a copy across file
// systems), and drops all but the newest KeptDrifted there. The file stays in place until the heal renames the
// installed one over it: a heal cut short by a kill leaves either file at the path, never none.
func (r *Runner) keepDrifted(app, path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dir := r.driftDir(app)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	dst := filepath.Join(dir, time.Now().UTC().Format("20060102T150405.000000000Z")+"-"+filepath.Base(path))
	if err := os.Link(path, dst); err != nil {
		if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) {
			return err
		}
		if err := copyFile(path, dst, 0o640); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for len(entries) > KeptDrifted { // names sort by time
		if err := os.RemoveAll(filepath.Join(dir, entries[0].Name())); err != nil {
			return err
		}
		entries = entries[1:]
	}
	return nil
}
