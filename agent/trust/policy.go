package trust

import (
	"errors"
	"fmt"
	"os"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/herofleet/herofleet/fleet"
)

// Verification modes.
const (
	ModeHead   = "head"   // the commit to apply must be signed
	ModeStrict = "strict" // every commit since the last applied one must be signed (on a first sync, HEAD only)
)

// maxRange bounds how many commits a strict check walks; a fleet repo that moved further needs an operator.
const maxRange = 10_000

// Policy is what an agent trusts.
type Policy struct {
	keyrings    []string // one armored OpenPGP keyring per key file: go-git reads a single armored block
	signers     []allowedSigner
	strict      bool
	allowRewind bool
}

// Config is the verify part of the agent's config, plus allow_rewind.
type Config struct {
	OpenPGPKeys       []string // files of armored public keys
	SSHAllowedSigners string   // a file in git's allowed_signers format
	Mode              string   // head (default) or strict
	AllowRewind       bool
}

// Load reads the trusted keys named by the config.
func Load(c Config) (*Policy, error) {
	p := &Policy{allowRewind: c.AllowRewind}
	switch c.Mode {
	case "", ModeHead:
	case ModeStrict:
		p.strict = true
	default:
		return nil, fmt.Errorf("verify.mode %q: use head or strict", c.Mode)
	}
	for _, f := range c.OpenPGPKeys {
		data, err := readBounded(f)
		if err != nil {
			return nil, fmt.Errorf("verify.openpgp_keys: %w", err)
		}
		if err := checkKeyring(string(data)); err != nil {
			return nil, fmt.Errorf("verify.openpgp_keys: %s: %w", f, err)
		}
		p.keyrings = append(p.keyrings, string(data))
	}
	if c.SSHAllowedSigners != "" {
		data, err := readBounded(c.SSHAllowedSigners)
		if err != nil {
			return nil, fmt.Errorf("verify.ssh_allowed_signers: %w", err)
		}
		if p.signers, err = parseAllowedSigners(data); err != nil {
			return nil, fmt.Errorf("verify.ssh_allowed_signers: %s: %w", c.SSHAllowedSigners, err)
		}
	}
	if p.strict && !p.Verifies() {
		return nil, errors.New("verify.mode strict needs openpgp_keys or ssh_allowed_signers")
	}
	return p, nil
}

// Verifies says whether commits must be signed.
func (p *Policy) Verifies() bool { return len(p.keyrings) > 0 || len(p.signers) > 0 }

// Refusal is why a fleet commit may not be applied.
type Refusal struct {
	Commit string
	Reason string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("fleet commit %s refused: %s", fleet.ShortRev(r.Commit), r.Reason)
}

// Check decides whether head may follow applied (zero on a first sync). A *Refusal says why not; any other error
// means the check could not be made (a missing object).
func (p *Policy) Check(repo *git.Repository, applied, head plumbing.Hash) error {
	if head == applied {
		return nil
	}
	headC, err := repo.CommitObject(head)
	if err != nil {
		return fmt.Errorf("fleet commit %s: %w", head, err)
	}
	var appliedC *object.Commit
	if !applied.IsZero() {
		if appliedC, err = repo.CommitObject(applied); err != nil {
			return fmt.Errorf("applied fleet commit %s: %w", applied, err)
		}
		ok, err := appliedC.IsAncestor(headC)
		if err != nil {
			return fmt.Errorf("ancestry of %s: %w", head, err)
		}
		if !ok && !p.allowRewind {
			return &Refusal{Commit: head.String(), Reason: fmt.Sprintf(
				"it does not descend from the applied commit %s (a force-push or rewind); set allow_rewind: true in the agent config to accept it",
				fleet.ShortRev(applied.String()))}
		}
	}
	if !p.Verifies() {
		return nil
	}
	commits := []*object.Commit{headC}
	if p.strict && appliedC != nil {
		if commits, err = since(repo, headC, appliedC); err != nil {
			return err
		}
	}
	for _, c := range commits {
		if _, err := p.Signer(c); err != nil {
			reason := err.Error()
			if c.Hash != head {
				reason = fmt.Sprintf("commit %s since the applied one: %s", fleet.ShortRev(c.Hash.String()), reason)
			}
			return &Refusal{Commit: head.String(), Reason: reason}
		}
	}
	return nil
}

// since lists the commits reachable from head and not from applied, head first.
func since(repo *git.Repository, head, applied *object.Commit) ([]*object.Commit, error) {
	known := map[plumbing.Hash]bool{}
	iter := object.NewCommitPreorderIter(applied, nil, nil)
	if err := iter.ForEach(func(c *object.Commit) error { known[c.Hash] = true; return nil }); err != nil {
		return nil, err
	}
	var out []*object.Commit
	seen := map[plumbing.Hash]bool{}
	queue := []*object.Commit{head}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seen[c.Hash] || known[c.Hash] {
			continue
		}
		seen[c.Hash] = true
		out = append(out, c)
		if len(out) > maxRange {
			return nil, &Refusal{Commit: head.Hash.String(), Reason: fmt.Sprintf("more than %d commits since the applied one to verify", maxRange)}
		}
		if err := c.Parents().ForEach(func(p *object.Commit) error { queue = append(queue, p); return nil }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Signer says who signed c, or why it is not trusted.
func (p *Policy) Signer(c *object.Commit) (string, error) {
	switch kind := signatureKind(c.PGPSignature); kind {
	case "":
		return "", errors.New("unsigned, and this agent applies only signed commits")
	case "ssh":
		if len(p.signers) == 0 {
			return "", errors.New("signed with an SSH key, and no ssh_allowed_signers are configured")
		}
		return p.verifySSH(c)
	default:
		if len(p.keyrings) == 0 {
			return "", errors.New("signed with OpenPGP, and no openpgp_keys are configured")
		}
		for _, ring := range p.keyrings {
			if e, err := c.Verify(ring); err == nil {
				for name := range e.Identities {
					return "openpgp:" + name, nil
				}
				return fmt.Sprintf("openpgp:%X", e.PrimaryKey.KeyId), nil
			}
		}
		return "", errors.New("OpenPGP signature by no trusted key")
	}
}

const maxKeyFile = 1 << 20

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, maxKeyFile+1)
	n, err := readFull(f, buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n > maxKeyFile {
		return nil, fmt.Errorf("%s is over %d bytes", path, maxKeyFile)
	}
	return buf[:n], nil
}
