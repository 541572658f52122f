package agent

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
)

// fleetRepo is the local bare clone of the fleet repo, <dir>/fleet.git.
type fleetRepo struct {
	dir, url, ref string
	repo          *git.Repository
}

func (r *fleetRepo) open() (*git.Repository, error) {
	if r.repo != nil {
		return r.repo, nil
	}
	repo, err := source.OpenBare(r.dir)
	if err != nil {
		return nil, err
	}
	r.repo = repo
	return repo, nil
}

// head asks the remote where ref points (ls-remote) and fetches only when that moved. A local clone that cannot
// be read is thrown away and fetched again, once.
func (r *fleetRepo) head(ctx context.Context) (plumbing.Hash, error) {
	h, err := r.headOnce(ctx)
	var remote *source.RemoteError
	if err == nil || errors.As(err, &remote) || ctx.Err() != nil {
		return h, err
	}
	r.repo = nil
	if rerr := os.RemoveAll(r.dir); rerr != nil {
		return h, err
	}
	return r.headOnce(ctx)
}

func (r *fleetRepo) headOnce(ctx context.Context) (plumbing.Hash, error) {
	repo, err := r.open()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if source.IsCommit(r.ref) {
		h := plumbing.NewHash(r.ref)
		if _, err := repo.CommitObject(h); err != nil {
			if err := source.FetchAll(ctx, repo, r.url); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		return h, nil
	}
	refs, err := source.LsRemote(ctx, r.url)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	remote := source.FindRef(refs, r.ref)
	if remote == nil {
		return plumbing.ZeroHash, fmt.Errorf("fleet repo %s has no branch or tag %q", r.url, r.ref)
	}
	if local, err := repo.Reference(remote.Name(), true); err != nil || local.Hash() != remote.Hash() {
		spec := config.RefSpec(fmt.Sprintf("+%s:%s", remote.Name(), remote.Name()))
		if err := source.Fetch(ctx, repo, r.url, spec); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("fleet repo: %w", err)
		}
	}
	return source.PeelToCommit(repo, remote.Name())
}

func (r *fleetRepo) load(commit string) (*fleet.Fleet, error) {
	repo, err := r.open()
	if err != nil {
		return nil, err
	}
	return fleet.LoadCommit(repo, plumbing.NewHash(commit))
}

// isAncestor says whether ancestor is commit or one of its ancestors, in the local clone; an error when either is
// not in it.
func (r *fleetRepo) isAncestor(ancestor, commit string) (bool, error) {
	repo, err := r.open()
	if err != nil {
		return false, err
	}
	var cs [2]*object.Commit
	for i, c := range []string{ancestor, commit} {
		if !source.IsCommit(c) {
			return false, fmt.Errorf("%q is not a commit id", c)
		}
		if cs[i], err = repo.CommitObject(plumbing.NewHash(c)); err != nil {
			return false, fmt.Errorf("fleet commit %s: %w", short(c), err)
		}
	}
	return cs[0].IsAncestor(cs[1])
}
