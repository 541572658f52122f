package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/herofleet/herofleet/fleet"
)

// MaxValue bounds a secret's value: tokens, passwords and keys, never data.
const MaxValue = 64 << 10

// Encrypt encrypts value to every recipient (age1…), ASCII-armored so the fleet repo's diffs stay text.
func Encrypt(value []byte, recipients []string) ([]byte, error) {
	if len(value) > MaxValue {
		return nil, fmt.Errorf("secret is %d bytes; at most %d", len(value), MaxValue)
	}
	if len(recipients) == 0 {
		return nil, errors.New("no recipient to encrypt to")
	}
	rs := make([]age.Recipient, 0, len(recipients))
	for _, s := range recipients {
		r, err := ParseRecipient(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, rs...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(value); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// The classes of a file Decrypt cannot open. Decrypt's errors are always one of these, never age's own: age's
// parse errors quote the line they stumble on, and in a file that starts like an age file but holds a value in
// clear that line is the value.
var (
	ErrNotAge     = errors.New("not an age file")
	ErrMalformed  = errors.New("malformed header")
	ErrNoIdentity = errors.New("no identity matched its recipients")
	ErrTruncated  = errors.New("truncated")
	ErrTampered   = errors.New("corrupted or tampered with: it does not authenticate")
	ErrTooLarge   = fmt.Errorf("value larger than %d bytes", MaxValue)
)

// Decrypt decrypts an age file, armored or binary, with any of ids. A value over MaxValue is refused. An error
// wraps one of ErrNotAge, ErrMalformed, ErrNoIdentity, ErrTruncated, ErrTampered or ErrTooLarge and holds no
// byte of data.
func Decrypt(data []byte, ids ...age.Identity) ([]byte, error) {
	// Leading whitespace before the armor is allowed, as fleet.IsAgeFile allows it; a binary file starts at once.
	if !fleet.IsAgeFile(data) {
		return nil, fmt.Errorf("decrypt: %w", ErrNotAge)
	}
	br := bufio.NewReader(bytes.NewReader(bytes.TrimLeft(data, " \t\r\n")))
	var in io.Reader
	if start, _ := br.Peek(len(armor.Header)); string(start) == armor.Header {
		in = armor.NewReader(br)
	} else {
		in = br
	}
	r, err := age.Decrypt(in, ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", headerClass(err))
	}
	value, err := io.ReadAll(io.LimitReader(r, MaxValue+1))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", payloadClass(err))
	}
	if len(value) > MaxValue {
		return nil, fmt.Errorf("decrypt: %w", ErrTooLarge)
	}
	return value, nil
}

// headerClass maps an error of age.Decrypt (the header, the file key, the nonce) to its fixed class.
func headerClass(err error) error {
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return ErrNoIdentity
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return ErrTruncated
	case strings.Contains(err.Error(), "header MAC"):
		// The file key opened but the header does not match its MAC: changed after encryption.
		return ErrTampered
	default:
		return ErrMalformed
	}
}

// payloadClass maps an error reading the payload to its fixed class.
func payloadClass(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return ErrTruncated
	}
	return ErrTampered
}
