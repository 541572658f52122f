package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"filippo.io/age"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/secrets"
)

// managedList names, inside the secrets dir, the files this agent wrote there: only those are removed when their
// secret leaves the fleet repo (a file put there by other means is left alone).
const managedList = ".herofleet-managed"

// commitFile names, inside the secrets dir, the fleet commit whose secrets the dir holds, written once they all
// are: a restarted agent converging an older commit (its applied one, while a newer one is held) does not write
// that commit's secrets over the newer ones (a revoked secret would come back).
const commitFile = ".herofleet-commit"

// secretsDir is the one writer of the agent's secrets dir: it decrypts this host's files of a fleet commit into
// <secrets_dir>/<name> (0600, each written whole through a rename) and removes those that left the repo.
type secretsDir struct {
	dir, identityFile, host string
	log                     *slog.Logger
	// isAncestor says whether ancestor is commit or one of its ancestors (the fleet clone's history): the order
	// of two commits, the newer one having the other as ancestor
	isAncestor func(ancestor, commit string) (bool, error)

	mu     sync.Mutex
	commit string // the fleet commit this agent wrote the dir from; empty until its first write
	kept   string // the fleet commit whose secrets were not written, the dir holding newer ones (see keep)
}

// undecryptable is a secret of this host that the agent cannot open: the commit carrying it is refused.
type undecryptable struct {
	file string
	err  error
}

func (u *undecryptable) Error() string { return fmt.Sprintf("%s: %v", u.file, u.err) }

// decryptClasses are the fixed classes of secrets.Decrypt's errors, in the order they are looked for.
var decryptClasses = []error{
	secrets.ErrNoIdentity, secrets.ErrNotAge, secrets.ErrMalformed, secrets.ErrTruncated, secrets.ErrTampered, secrets.ErrTooLarge,
}

// decryptReason says why a secret of host could not be decrypted with a fixed text per class of error: the refusal
// reason reaches the status and the log, and no byte of the file may (a value committed in clear after an age
// header would be quoted by age's own parse error).
func decryptReason(err error, host string) error {
	class := errors.New("it does not decrypt")
	for _, c := range decryptClasses {
		if errors.Is(err, c) {
			class = c
			break
		}
	}
	if class == secrets.ErrNoIdentity {
		return fmt.Errorf("not an age file this host can decrypt (%v: is hosts/%s.yaml's recipient this host's identity_file?)", class, host)
	}
	return fmt.Errorf("not an age file this host can decrypt (%v)", class)
}

// holds says whether the dir needs nothing written for commit: it holds commit's secrets already, or a newer
// commit's that write kept.
func (s *secretsDir) holds(commit string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return commit != "" && (s.commit == commit || s.kept == commit)
}

// write decrypts every secret of this host in f, then writes them all; nothing is written unless all decrypt,
// nor when the dir holds the secrets of a commit newer than f's (see keep: logged, and nil). Fresh says f is a new
// head, verified and valid just now. An *undecryptable error names the file that could not be opened; any other
// error is the disk's.
func (s *secretsDir) write(f *fleet.Fleet, fresh bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := f.SecretsOf(s.host)
	values := make(map[string][]byte, len(files))
	var ids []age.Identity
	if len(files) > 0 {
		if s.identityFile == "" {
			return &undecryptable{file: files[0].File, err: errors.New("the agent config names no identity_file")}
		}
		id, err := secrets.LoadIdentity(s.identityFile)
		if err != nil {
			return &undecryptable{file: files[0].File, err: err}
		}
		ids = []age.Identity{id}
	}
	for _, sf := range files {
		v, err := secrets.Decrypt(sf.Data, ids...)
		if err != nil {
			return &undecryptable{file: sf.File, err: decryptReason(err, s.host)}
		}
		values[sf.Name] = v
	}
	held, err := s.recorded()
	if err != nil {
		return err
	}
	if why := s.keep(held, f.Commit, fresh); why != "" {
		s.kept = f.Commit
		s.log.Warn("secrets of a fleet commit not written; the secrets dir keeps what it holds", "commit", short(f.Commit), "why", why)
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("secrets dir: %w", err)
	}
	// The managed list always covers every file the agent may have left in the dir: it grows before a value is
	// written and shrinks only after the removals, so a failed removal or an agent killed in between leaves the
	// file listed, and the next write removes it.
	before := s.managed()
	names := make([]string, 0, len(values))
	for _, sf := range files {
		names = append(names, sf.Name)
	}
	all := slices.Clone(before)
	for _, n := range names {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	if len(all) > len(before) {
		if err := writeManaged(s.dir, all); err != nil {
			return err
		}
	}
	for _, sf := range files {
		if err := writePrivate(s.dir, sf.Name, values[sf.Name]); err != nil {
			return err
		}
	}
	var gone []string
	for _, n := range before {
		if !slices.Contains(names, n) {
			if err := os.Remove(filepath.Join(s.dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove secret %s: %w", n, err)
			}
			gone = append(gone, n)
		}
	}
	if !slices.Equal(before, names) {
		if err := writeManaged(s.dir, names); err != nil {
			return err
		}
	}
	if held != f.Commit {
		if err := writePrivate(s.dir, commitFile, []byte(f.Commit+"\n")); err != nil {
			return err
		}
	}
	s.commit, s.kept = f.Commit, ""
	if len(names) > 0 || len(gone) > 0 {
		s.log.Info("secrets written", "commit", short(f.Commit), "names", names, "removed", gone)
	}
	return nil
}

// recorded is the fleet commit whose secrets the dir holds, by its commit file: empty when it has none (a new
// dir, or one an older agent wrote).
func (s *secretsDir) recorded() (string, error) {
	fh, err := os.Open(filepath.Join(s.dir, commitFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("secrets dir: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, 1<<10))
	if err != nil {
		return "", fmt.Errorf("secrets dir: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// keep says why the dir, holding the secrets of fleet commit held, must keep them rather than take commit's.
// Empty: commit's may be written. A commit the agent converges again (fresh false: its applied one, after a
// restart) is written only over its own secrets or an older commit's (held is its ancestor): held may be a newer
// commit, held for the rollout, whose secrets were written at once, and when the order cannot be told (neither
// descends from the other, a commit not in the clone) what is there stays. A new head (fresh: verified and valid
// just now) is the newest commit the ref has shown, and is written unless it is an ancestor of held (the ref went
// back): a head of another history is the fleet's now (its next commits would never descend from held).
func (s *secretsDir) keep(held, commit string, fresh bool) string {
	if held == "" || held == commit {
		return ""
	}
	order := s.isAncestor
	if order == nil {
		order = func(string, string) (bool, error) { return false, errors.New("no fleet history") }
	}
	if newer, err := order(held, commit); err == nil && newer {
		return ""
	}
	if older, err := order(commit, held); err == nil && older {
		return fmt.Sprintf("it holds the secrets of fleet commit %s, newer (a commit held for the rollout, say): they stay", short(held))
	}
	if fresh {
		return ""
	}
	why := "neither descends from the other"
	if _, err := order(held, commit); err != nil {
		why = "their order cannot be told: " + err.Error()
	}
	return fmt.Sprintf("it holds the secrets of fleet commit %s and %s: they stay until a newer head", short(held), why)
}

// managed reads the names written before; a name that breaks the name rule is ignored (never a path to remove).
func (s *secretsDir) managed() []string {
	fh, err := os.Open(filepath.Join(s.dir, managedList))
	if err != nil {
		return nil
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(io.LimitReader(fh, 1<<20))
	for sc.Scan() {
		if n := strings.TrimSpace(sc.Text()); fleet.ValidName(n) {
			out = append(out, n)
		}
	}
	return out
}

// writeManaged records names as the files this agent wrote in dir.
func writeManaged(dir string, names []string) error {
	return writePrivate(dir, managedList, []byte(strings.Join(names, "\n")+"\n"))
}

// writePrivate writes dir/name with mode 0600 through writeAtomic: a plugin reading it sees the old value or the
// new one, never half of one.
func writePrivate(dir, name string, data []byte) error {
	if err := writeAtomic(filepath.Join(dir, name), data, 0o600); err != nil {
		return fmt.Errorf("write secret %s: %w", name, err)
	}
	return nil
}
