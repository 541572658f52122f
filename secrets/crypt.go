package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/armor"
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

// Decrypt decrypts an age file, armored or binary, with any of ids. A value over MaxValue is refused.
func Decrypt(data []byte, ids ...age.Identity) ([]byte, error) {
	// Leading whitespace before the armor is allowed, as fleet.IsAgeFile allows it; a binary file starts at once.
	br := bufio.NewReader(bytes.NewReader(bytes.TrimLeft(data, " \t\r\n")))
	var in io.Reader
	if start, _ := br.Peek(len(armor.Header)); string(start) == armor.Header {
		in = armor.NewReader(br)
	} else {
		in = br
	}
	r, err := age.Decrypt(in, ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	value, err := io.ReadAll(io.LimitReader(r, MaxValue+1))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if len(value) > MaxValue {
		return nil, fmt.Errorf("decrypt: value larger than %d bytes", MaxValue)
	}
	return value, nil
}
