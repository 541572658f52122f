package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// maxIdentityFile bounds an identity file: age-keygen writes three short lines.
const maxIdentityFile = 64 << 10

// CreateIdentity makes a new X25519 identity at path (mode 0600, in age-keygen's format) unless one is there
// already: a host's identity is kept, or every secret encrypted to it would be lost. It returns the identity in
// the file and whether it was created now.
func CreateIdentity(path string) (*age.X25519Identity, bool, error) {
	if id, err := LoadIdentity(path); err == nil {
		return id, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, false, fmt.Errorf("generate age identity: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("identity folder: %w", err)
	}
	body := fmt.Sprintf("# created by herofleet\n# public key: %s\n%s\n", id.Recipient(), id)
	// O_EXCL: two bootstraps racing never overwrite each other's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create identity: %w", err)
	}
	if _, err := io.WriteString(f, body); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("write identity %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write identity %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write identity %s: %w", path, err)
	}
	return id, true, nil
}

// LoadIdentity reads the one X25519 identity in an age-keygen style file (comments and blank lines allowed). A
// file its group or others may read or write is refused, as ssh refuses such a private key.
func LoadIdentity(path string) (*age.X25519Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	} else if perm := st.Mode().Perm(); perm&0o077 != 0 {
		// A key others can read is no longer this host's alone; one they can write could be swapped. ssh refuses
		// such a private key; so does herofleet, before reading it.
		return nil, fmt.Errorf("identity %s: mode %04o lets its group or others at this private key: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIdentityFile+1))
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	if len(data) > maxIdentityFile {
		return nil, fmt.Errorf("identity %s: larger than %d bytes: not an age identity file", path, maxIdentityFile)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// age's parse errors quote the offending line, which would be the key itself: never repeat them.
		return nil, fmt.Errorf("identity %s: not an age X25519 identity file (AGE-SECRET-KEY-1…)", path)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("identity %s: holds %d identities; one is expected", path, len(ids))
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return nil, fmt.Errorf("identity %s: not an X25519 identity", path)
	}
	return id, nil
}

// ParseRecipient reads an X25519 recipient (age1…).
func ParseRecipient(s string) (*age.X25519Recipient, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", s, err)
	}
	return r, nil
}
