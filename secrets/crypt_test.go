package secrets

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

// A file Decrypt cannot open is refused with a fixed text per class: none of its bytes reaches the error, even
// when it starts like an age file and holds a value in clear (age's own parse errors quote that line).
func TestDecryptErrorsNeverQuoteTheFile(t *testing.T) {
	const password = "hunter2-s3cr3t"
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	binary := func(value []byte) []byte {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(value)
		w.Close()
		return buf.Bytes()
	}
	good := binary([]byte(password))
	headerEnd := bytes.Index(good, []byte("\n--- ")) + 1
	headerEnd += bytes.IndexByte(good[headerEnd:], '\n') + 1
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	armored, err := Encrypt([]byte(password), []string{other.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data string
		want error
	}{
		{"clear body after the binary header", "age-encryption.org/v1\nDB_PASSWORD=" + password + "\n", ErrMalformed},
		{"clear stanza", "age-encryption.org/v1\n-> X25519 " + password + "\n" + password + "\n--- AAAA\n", ErrMalformed},
		{"clear closing line", "age-encryption.org/v1\n--- " + password + "\n", ErrMalformed},
		{"clear body in armor", "-----BEGIN AGE ENCRYPTED FILE-----\nDB_PASSWORD=" + password + "\n-----END AGE ENCRYPTED FILE-----\n", ErrMalformed},
		{"armor with a clear first line", "-----BEGIN AGE ENCRYPTED FILE----- " + password + "\n", ErrMalformed},
		{"no age file at all", "DB_PASSWORD=" + password + "\n", ErrNotAge},
		{"another host's file", string(armored), ErrNoIdentity},
		{"cut in the header", string(good[:headerEnd-10]), ErrTruncated},
		{"cut before the nonce", string(good[:headerEnd]), ErrTruncated},
		{"a payload byte changed", string(flipped), ErrTampered},
		{"a value too large", string(binary(bytes.Repeat([]byte("x"), MaxValue+1))), ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decrypt([]byte(c.data), id)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "DB_PASSWORD") {
				t.Fatalf("the error quotes the file: %v", err)
			}
		})
	}
	if v, err := Decrypt(good, id); err != nil || string(v) != password {
		t.Fatalf("a good file: %q %v", v, err)
	}
}
