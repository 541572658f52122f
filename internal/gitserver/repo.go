package gitserver

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
)

// File is one file of a commit. Exec marks it executable; Link makes it a symlink whose target is Data.
type File struct {
	Data []byte
	Exec bool
	Link bool
}

// Files is a whole tree: slash path -> file. A commit holds exactly these files.
type Files map[string]File

// Text builds Files from path -> content, all plain files.
func Text(m map[string]string) Files {
	out := Files{}
	for p, s := range m {
		out[p] = File{Data: []byte(s)}
	}
	return out
}

// ReadFiles reads every file of the tree held in fsys, to commit it whole.
func ReadFiles(fsys fs.FS) (Files, error) {
	files := Files{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files[p] = File{Data: b}
		return nil
	})
	return files, err
}

// Init creates the bare repository <root>/<name>.git with HEAD on main, or opens it if it exists.
func (s *Server) Init(name string) (*git.Repository, error) {
	return InitBare(filepath.Join(s.Root, name+".git"))
}

// InitBare creates (or opens) a bare repository at dir whose HEAD names refs/heads/main.
func InitBare(dir string) (*git.Repository, error) {
	if r, err := git.PlainOpen(dir); err == nil {
		return r, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	r, err := git.PlainInit(dir, true)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	head := plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))
	if err := r.Storer.SetReference(head); err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return r, nil
}

// Commit writes files as the whole tree of a new commit on branch (its parent is the branch's tip, if any) and
// returns the commit's hash.
func (s *Server) Commit(name, branch, msg string, files Files) (string, error) {
	r, err := s.Init(name)
	if err != nil {
		return "", err
	}
	return Commit(r, branch, msg, files)
}

// Commit writes a commit into r on branch; see (*Server).Commit.
func Commit(r *git.Repository, branch, msg string, files Files) (string, error) {
	return commitOn(r, branch, "", msg, files, nil)
}

// Tag points refs/tags/<tag> at commit.
func (s *Server) Tag(name, tag, commit string) error {
	r, err := s.Init(name)
	if err != nil {
		return err
	}
	return r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(tag), plumbing.NewHash(commit)))
}

// writeTree stores the tree of every file under dir (slash path, "" for the root) and returns its hash.
func writeTree(st storage.Storer, files Files, dir string) (plumbing.Hash, error) {
	return writeTreeOnce(st, files, dir, map[blobKey]plumbing.Hash{})
}

// blobKey names the bytes of a File by where they are: entries built from one slice hash it once (a test's tree of
// 20,000 entries naming one 1 MiB blob would otherwise hash 20 GiB).
type blobKey struct {
	first *byte
	n     int
}

func writeTreeOnce(st storage.Storer, files Files, dir string, hashed map[blobKey]plumbing.Hash) (plumbing.Hash, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	var entries []object.TreeEntry
	subdirs := map[string]bool{}
	for p, f := range files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rest := strings.TrimPrefix(p, prefix)
		if first, _, nested := strings.Cut(rest, "/"); nested {
			subdirs[first] = true
			continue
		}
		var key blobKey
		if len(f.Data) > 0 {
			key = blobKey{&f.Data[0], len(f.Data)}
		}
		h, ok := hashed[key]
		if !ok {
			var err error
			if h, err = writeBlob(st, f.Data); err != nil {
				return plumbing.ZeroHash, err
			}
			hashed[key] = h
		}
		mode := filemode.Regular
		if f.Exec {
			mode = filemode.Executable
		}
		if f.Link {
			mode = filemode.Symlink
		}
		entries = append(entries, object.TreeEntry{Name: rest, Mode: mode, Hash: h})
	}
	for sub := range subdirs {
		h, err := writeTreeOnce(st, files, path.Join(dir, sub), hashed)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: sub, Mode: filemode.Dir, Hash: h})
	}
	// git orders entries by name, a folder's name compared as if it ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	t := &object.Tree{Entries: entries}
	obj := st.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	return st.SetEncodedObject(obj)
}

func writeBlob(st storage.Storer, data []byte) (plumbing.Hash, error) {
	if h := plumbing.ComputeHash(plumbing.BlobObject, data); st.HasEncodedObject(h) == nil {
		return h, nil // stored already: many files of one tree may share a blob
	}
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}
