package agent

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/agent/trust"
)

// loadTrust reads the keys named by the config's verify and allow_rewind. A bad key file is a config error: the
// agent does not start, rather than start and refuse every commit.
func loadTrust(cfg *Config) (*trust.Policy, error) {
	p, err := trust.Load(trust.Config{
		OpenPGPKeys:       cfg.Verify.OpenPGPKeys,
		SSHAllowedSigners: cfg.Verify.SSHAllowedSigners,
		Mode:              cfg.Verify.Mode,
		AllowRewind:       cfg.AllowRewind,
	})
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	return p, nil
}

// checkTrust decides whether the fleet commit head may follow the applied one: signed by a trusted key (when the
// config lists any) and descending from the applied commit (unless allow_rewind). A refusal comes back as its
// reason; err means the check could not be made.
func (a *Agent) checkTrust(head string) (refusal string, err error) {
	repo, err := a.fleet.open()
	if err != nil {
		return "", err
	}
	applied := plumbing.ZeroHash
	if c := a.host.appliedCommit(); c != "" {
		applied = plumbing.NewHash(c)
	}
	if !applied.IsZero() {
		// a clone made again (after a kill) holds only the new head's history: a missing applied commit cannot
		// be an ancestor of it
		if _, err := repo.CommitObject(applied); errors.Is(err, plumbing.ErrObjectNotFound) {
			if !a.cfg.AllowRewind {
				return fmt.Sprintf("the applied commit %s is not in its history (a force-push or rewind); set allow_rewind: true in the agent config to accept it", short(applied.String())), nil
			}
			applied = plumbing.ZeroHash // checked like a first sync
		}
	}
	err = a.trust.Check(repo, applied, plumbing.NewHash(head))
	var r *trust.Refusal
	if errors.As(err, &r) {
		return r.Reason, nil
	}
	return "", err
}
