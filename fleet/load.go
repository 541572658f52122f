package fleet

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxFiles bounds how many files one folder of a fleet may hold.
const maxFiles = 100_000

// folders of a fleet repo and the extension their files carry.
var folders = []struct{ dir, ext string }{{"apps", ".yaml"}, {"roles", ".yaml"}, {"hosts", ".yaml"}, {"runbook", ".md"}}

// maxFleetBytes bounds the bytes of all of a fleet's files together (each is also at most maxFileSize), an entry
// counted whole even when its blob is shared with others: a small commit whose thousands of entries name one
// large blob cannot make the loader read and decode it thousands of times.
const maxFleetBytes = 64 << 20

// files is a fleet repo read into memory: slash path -> content. Problems met while reading (a symlink leaving the
// repo, a file too large) are collected beside it, so they are reported with the rest.
type files struct {
	data   map[string][]byte
	errs   errs
	budget *budget                  // shared by the goroutines reading one fleet
	blobs  map[plumbing.Hash][]byte // a git fleet's blobs already read
}

// budget is what is left of maxFleetBytes while a fleet is read.
type budget struct {
	left atomic.Int64
	over atomic.Bool // the error was reported
}

func newBudget() *budget {
	b := &budget{}
	b.left.Store(maxFleetBytes)
	return b
}

// take counts n bytes of name against the budget; false (with the error reported once) when they do not fit.
func (fs *files) take(name string, n int) bool {
	if fs.budget.left.Add(-int64(n)) >= 0 {
		return true
	}
	if !fs.budget.over.Swap(true) {
		fs.errs.add(name, Pos{}, "the fleet's files together are more than %d MiB; a fleet holds at most %d MiB", maxFleetBytes>>20, maxFleetBytes>>20)
	}
	return false
}

// LoadDir loads and validates the fleet in dir. A fleet with problems returns the Fleet as far as it could be read
// and an Errors listing every problem; an error of another type means the fleet could not be read at all.
func LoadDir(dir string) (*Fleet, error) {
	fs, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	return load(fs, "")
}

// LoadCommit loads and validates the fleet at commit hash of repo.
func LoadCommit(repo *git.Repository, hash plumbing.Hash) (*Fleet, error) {
	c, err := repo.CommitObject(hash)
	if err != nil {
		return nil, fmt.Errorf("fleet commit %s: %w", hash, err)
	}
	fs, err := readTree(c)
	if err != nil {
		return nil, err
	}
	return load(fs, hash.String())
}

// LoadRevision loads the fleet at a revision of the git repository in dir ("HEAD", a branch, a tag, a hash).
func LoadRevision(dir, rev string) (*Fleet, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolve %q in %s: %w", rev, dir, err)
	}
	return LoadCommit(repo, *h)
}

func readDir(dir string) (*files, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("fleet directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("fleet directory %s is not a directory", dir)
	}
	// os.Root refuses to follow a symlink out of the repo, whatever its depth.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fleet directory: %w", err)
	}
	defer root.Close()
	return readFS(root.FS()), nil
}

// LoadFS loads and validates a fleet held in fsys (the embedded example fleet, a test's file tree).
func LoadFS(fsys fs.FS) (*Fleet, error) { return load(readFS(fsys), "") }

func readFS(fsys fs.FS) *files {
	fl := &files{data: map[string][]byte{}, budget: newBudget()}
	names := []string{"fleet.yaml", LockFile}
	modes := []fs.FileMode{fs.ModeIrregular, fs.ModeIrregular} // unknown: stat it
	for _, f := range folders {
		entries, err := fs.ReadDir(fsys, f.dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			fl.errs.add(f.dir, Pos{}, "cannot read folder: %v", err)
			continue
		}
		if len(entries) > maxFiles {
			fl.errs.add(f.dir, Pos{}, "holds %d entries; at most %d", len(entries), maxFiles)
			continue
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			name := f.dir + "/" + e.Name()
			if e.IsDir() {
				fl.errs.add(name, Pos{}, "unexpected folder: %s/ holds only %s files", f.dir, f.ext)
				continue
			}
			names = append(names, name)
			modes = append(modes, e.Type())
		}
	}
	names, modes = listSecretsFS(fsys, names, modes, &fl.errs)
	// Reading thousands of small files is mostly waiting on system calls: overlap them.
	read := make([]files, len(names))
	parallel(len(names), func(i int) {
		read[i].data, read[i].budget = map[string][]byte{}, fl.budget
		read[i].readFSFile(fsys, names[i], modes[i])
	})
	for i := range read {
		maps.Copy(fl.data, read[i].data)
		fl.errs.list = append(fl.errs.list, read[i].errs.list...)
	}
	return fl
}

// parallel calls fn(0..n-1) on as many goroutines as the machine has cores.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := range work {
				fn(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// readFSFile reads one file of the fleet; a symlink is followed only while it stays inside the repo. mode is the
// type its folder listing gave: anything but a regular file is looked at before it is opened, so that a FIFO or
// a device never blocks or feeds the loader.
func (fl *files) readFSFile(fsys fs.FS, name string, mode fs.FileMode) {
	if !mode.IsRegular() {
		st, err := fs.Stat(fsys, name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && (name == "fleet.yaml" || name == LockFile) && mode == fs.ModeIrregular:
			return // fleet.yaml is reported as missing by load; fleet.lock is optional
		case errors.Is(err, fs.ErrNotExist):
			fl.errs.add(name, Pos{}, "broken symlink")
			return
		case err != nil && strings.Contains(err.Error(), "escapes"):
			fl.errs.add(name, Pos{}, "symlink leaves the fleet repo")
			return
		case err != nil:
			fl.errs.add(name, Pos{}, "cannot read: %v", err)
			return
		case !st.Mode().IsRegular():
			fl.errs.add(name, Pos{}, "not a regular file")
			return
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		fl.errs.add(name, Pos{}, "cannot read: %v", err)
		return
	}
	defer f.Close()
	fl.put(name, f)
}

// put reads at most one byte over the limit, so decodeFile can say the file is too large without reading it all.
func (fs *files) put(name string, r io.Reader) {
	if fs.budget.left.Load() <= 0 {
		fs.take(name, 1)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		fs.errs.add(name, Pos{}, "cannot read: %v", err)
		return
	}
	if fs.take(name, len(data)) {
		fs.data[name] = data
	}
}

func readTree(c *object.Commit) (*files, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("fleet commit %s: %w", c.Hash, err)
	}
	fs := &files{data: map[string][]byte{}, budget: newBudget(), blobs: map[plumbing.Hash][]byte{}}
	fs.readTreeEntry(tree, "fleet.yaml", "fleet.yaml")
	fs.readTreeEntry(tree, LockFile, LockFile)
	for _, f := range folders {
		sub, err := tree.Tree(f.dir)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			continue
		}
		if err != nil {
			fs.errs.add(f.dir, Pos{}, "cannot read folder: %v", err)
			continue
		}
		if len(sub.Entries) > maxFiles {
			fs.errs.add(f.dir, Pos{}, "holds %d entries; at most %d", len(sub.Entries), maxFiles)
			continue
		}
		for _, e := range sub.Entries {
			if strings.HasPrefix(e.Name, ".") {
				continue
			}
			name := f.dir + "/" + e.Name
			if e.Mode == filemode.Dir {
				fs.errs.add(name, Pos{}, "unexpected folder: %s/ holds only %s files", f.dir, f.ext)
				continue
			}
			// Looked up in the folder's tree: a path from the root would decode the folder again for every file.
			fs.readTreeEntry(sub, e.Name, name)
		}
	}
	fs.readSecretsTree(tree)
	return fs, nil
}

// readTreeEntry reads the blob at path entry of tree as the fleet file name. Symlinks are refused in a git fleet:
// git stores only their target, which an agent must not follow.
func (fs *files) readTreeEntry(tree *object.Tree, entry, name string) {
	e, err := tree.FindEntry(entry)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return
	}
	if err != nil {
		fs.errs.add(name, Pos{}, "cannot read: %v", err)
		return
	}
	switch e.Mode {
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
	case filemode.Symlink:
		fs.errs.add(name, Pos{}, "symlinks are not followed in a fleet repo")
		return
	default:
		fs.errs.add(name, Pos{}, "not a regular file")
		return
	}
	if data, ok := fs.blobs[e.Hash]; ok { // a blob shared by several entries is read and held once
		if fs.take(name, len(data)) {
			fs.data[name] = data
		}
		return
	}
	blob, err := tree.TreeEntryFile(e)
	if err != nil {
		fs.errs.add(name, Pos{}, "cannot read: %v", err)
		return
	}
	r, err := blob.Reader()
	if err != nil {
		fs.errs.add(name, Pos{}, "cannot read: %v", err)
		return
	}
	defer r.Close()
	fs.put(name, r)
	if data, ok := fs.data[name]; ok {
		fs.blobs[e.Hash] = data
	}
}

// load decodes every file (in parallel: thousands of host files decode independently), then validates the whole
// fleet; all problems come back together.
func load(fs *files, commit string) (*Fleet, error) {
	f := &Fleet{Apps: map[string]*App{}, Roles: map[string]*Role{}, Hosts: map[string]*Host{}, Commit: commit}
	e := &fs.errs
	names := make([]string, 0, len(fs.data))
	for name := range fs.data {
		names = append(names, name)
	}
	slices.Sort(names)
	if _, ok := fs.data["fleet.yaml"]; !ok {
		e.add("fleet.yaml", Pos{}, "missing: a fleet repo has a fleet.yaml at its top")
	}
	decoded := make([]errs, len(names)) // each file's own problems, merged in name order below
	objects := make([]any, len(names))
	parallel(len(names), func(i int) { objects[i] = decodeOne(names[i], fs.data[names[i]], &decoded[i]) })
	for i, name := range names {
		e.list = append(e.list, decoded[i].list...)
		switch o := objects[i].(type) {
		case *Meta:
			f.Meta = *o
		case *Lock:
			f.Lock = o
		case *App:
			f.Apps[o.Name] = o
		case *Role:
			f.Roles[o.Name] = o
		case *Host:
			f.Hosts[o.Name] = o
		case RunbookPage:
			f.Runbook = append(f.Runbook, o)
		case SecretFile:
			f.Secrets = append(f.Secrets, o)
		case nil:
		default:
			panic(fmt.Sprintf("fleet: decoded %s into %T", name, o))
		}
	}
	validate(f, e)
	validateLock(f, e)
	return f, e.err()
}

// decodeOne decodes one file of the repo into what it describes, by its folder; nil for a file that is refused.
func decodeOne(name string, data []byte, e *errs) any {
	if strings.HasPrefix(name, SecretsDir+"/") {
		return decodeSecret(name, data, e)
	}
	dir, base := path.Split(name)
	stem, ext := strings.TrimSuffix(base, path.Ext(base)), path.Ext(base)
	switch {
	case name == LockFile:
		return parseLock(data, e)
	case dir == "":
		m := &Meta{File: name}
		m.pos = decodeFile(name, data, m, e)
		return m
	case dir == "runbook/":
		if ext != ".md" {
			e.add(name, Pos{}, "runbook/ holds only .md pages")
			return nil
		}
		if len(data) > maxFileSize {
			e.add(name, Pos{}, "page is %d bytes; at most %d", len(data), maxFileSize)
			return nil
		}
		return RunbookPage{File: name, Content: data}
	}
	if ext != ".yaml" {
		hint := ""
		if ext == ".yml" {
			hint = " (rename it to " + stem + ".yaml)"
		}
		e.add(name, Pos{}, "ignored file would be a surprise: %s holds only .yaml files%s", dir, hint)
		return nil
	}
	if !ValidName(stem) {
		e.add(name, Pos{}, "file name %q is not a valid name (%s)", stem, NamePattern)
		return nil
	}
	switch dir {
	case "apps/":
		a := &App{File: name}
		a.pos = decodeFile(name, data, a, e)
		a.Name = nameFromFile(a.Name, stem, name, a.pos, e)
		return a
	case "roles/":
		r := &Role{File: name}
		r.pos = decodeFile(name, data, r, e)
		r.Name = nameFromFile(r.Name, stem, name, r.pos, e)
		return r
	case "hosts/":
		h := &Host{File: name}
		h.pos = decodeFile(name, data, h, e)
		h.Name = nameFromFile(h.Name, stem, name, h.pos, e)
		return h
	}
	return nil
}

// nameFromFile: the file name is the name; a name field, when present, must agree with it.
func nameFromFile(name, stem, file string, pos positions, e *errs) string {
	if name != "" && name != stem {
		e.add(file, pos.at("name"), "name %q differs from the file name %q", name, stem)
	}
	return stem
}
