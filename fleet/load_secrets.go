package fleet

import (
	"errors"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// listSecretsFS adds the files of secrets/<host>/ to names: one level of host folders, files inside them. Anything
// else (a file directly under secrets/, a deeper folder) is read too, so decodeSecret reports it with its name.
// Dotfiles are no exception: a secrets/<host>/.env in clear is refused like any file that is not an age file.
func listSecretsFS(fsys fs.FS, names []string, modes []fs.FileMode, e *errs) ([]string, []fs.FileMode) {
	hosts, err := fs.ReadDir(fsys, SecretsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return names, modes
	}
	if err != nil {
		e.add(SecretsDir, Pos{}, "cannot read folder: %v", err)
		return names, modes
	}
	if len(hosts) > maxFiles {
		e.add(SecretsDir, Pos{}, "holds %d entries; at most %d", len(hosts), maxFiles)
		return names, modes
	}
	total := 0
	for _, h := range hosts {
		dir := SecretsDir + "/" + h.Name()
		if !h.IsDir() {
			names, modes = append(names, dir), append(modes, h.Type())
			continue
		}
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			e.add(dir, Pos{}, "cannot read folder: %v", err)
			continue
		}
		if total += len(entries); total > maxFiles {
			e.add(SecretsDir, Pos{}, "holds more than %d files", maxFiles)
			return names, modes
		}
		for _, f := range entries {
			name := dir + "/" + f.Name()
			switch {
			case f.IsDir():
				e.add(name, Pos{}, "unexpected folder: secrets/<host>/ holds only %s files", SecretExt)
			default:
				names, modes = append(names, name), append(modes, f.Type())
			}
		}
	}
	return names, modes
}

// readSecretsTree reads secrets/<host>/* of a git tree, with the same rules as listSecretsFS.
func (fs *files) readSecretsTree(tree *object.Tree) {
	sub, err := tree.Tree(SecretsDir)
	if errors.Is(err, object.ErrDirectoryNotFound) {
		return
	}
	if err != nil {
		fs.errs.add(SecretsDir, Pos{}, "cannot read folder: %v", err)
		return
	}
	total := 0
	for _, h := range sub.Entries {
		dir := SecretsDir + "/" + h.Name
		if h.Mode != filemode.Dir {
			fs.readTreeEntry(sub, h.Name, dir)
			continue
		}
		hostTree, err := sub.Tree(h.Name)
		if err != nil {
			fs.errs.add(dir, Pos{}, "cannot read folder: %v", err)
			continue
		}
		if total += len(hostTree.Entries); total > maxFiles {
			fs.errs.add(SecretsDir, Pos{}, "holds more than %d files", maxFiles)
			return
		}
		for _, f := range hostTree.Entries {
			name := dir + "/" + f.Name
			switch {
			case f.Mode == filemode.Dir:
				fs.errs.add(name, Pos{}, "unexpected folder: secrets/<host>/ holds only %s files", SecretExt)
			default:
				fs.readTreeEntry(hostTree, f.Name, name)
			}
		}
	}
}
