package source

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// RemoteError is a remote that did not answer (network, missing repo): the local clone is not to blame.
type RemoteError struct{ Err error }

func (e *RemoteError) Error() string { return e.Err.Error() }
func (e *RemoteError) Unwrap() error { return e.Err }

// LsRemote lists the refs of the repo at url without touching any clone.
func LsRemote(ctx context.Context, url string) ([]*plumbing.Reference, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{})
	if err != nil {
		return nil, &RemoteError{fmt.Errorf("ls-remote %s: %w", url, err)}
	}
	return refs, nil
}

// FindRef looks ref up as a branch, then as a tag.
func FindRef(refs []*plumbing.Reference, ref string) *plumbing.Reference {
	for _, name := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)} {
		for _, r := range refs {
			if r.Name() == name && r.Type() == plumbing.HashReference {
				return r
			}
		}
	}
	return nil
}

// OpenBare opens the bare repo in dir, creating it when it is not there.
func OpenBare(dir string) (*git.Repository, error) {
	if r, err := git.PlainOpen(dir); err == nil {
		return r, nil
	}
	r, err := git.PlainInit(dir, true)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return r, nil
}

// FetchAll mirrors every branch and tag of url into repo.
func FetchAll(ctx context.Context, repo *git.Repository, url string) error {
	return Fetch(ctx, repo, url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
}

// Fetch fetches refspecs from url into repo through an anonymous remote: the URL is never stored, so a changed
// rewrite takes effect at once.
func Fetch(ctx context.Context, repo *git.Repository, url string, specs ...config.RefSpec) error {
	rem := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	err := rem.FetchContext(ctx, &git.FetchOptions{RefSpecs: specs, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		err = fmt.Errorf("fetch %s: %w", url, err)
		var netErr net.Error
		if errors.As(err, &netErr) || errors.Is(err, transport.ErrRepositoryNotFound) {
			return &RemoteError{err}
		}
		return err
	}
	return nil
}

// PeelToCommit follows a ref, and an annotated tag, to its commit.
func PeelToCommit(repo *git.Repository, name plumbing.ReferenceName) (plumbing.Hash, error) {
	r, err := repo.Reference(name, true)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h := r.Hash()
	if tag, err := repo.TagObject(h); err == nil {
		c, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return c.Hash, nil
	}
	if _, err := repo.CommitObject(h); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}
