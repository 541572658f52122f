// Package termtext makes text that came from elsewhere (an agent's status, a Prometheus label) safe to print on a
// person's terminal: no control character reaches it, so no escape sequence (colours, cursor moves, an OSC 52
// clipboard write, a retitled window) can be smuggled into a table.
package termtext

import (
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"
)

// unsafe reports a rune a terminal may act on rather than show: C0 controls, DEL, C1 controls (U+0080–U+009F,
// which some terminals obey in UTF-8 too), the line and paragraph separators, and the bidirectional overrides
// and isolates that reorder what a line seems to say.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Clean returns s with every control character replaced: tabs, newlines and the like by a space (so that a field
// keeps to its row and column), every other one, and every byte that is not UTF-8, by U+FFFD.
func Clean(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafe(r) || r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	if i == len(s) {
		return s // the usual case: nothing to replace, nothing allocated
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] { // ranging over a string yields U+FFFD for each byte that is not UTF-8
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
		case unsafe(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// JSON makes JSON that encoding/json wrote safe for a terminal as well, without changing what it means.
// encoding/json already escapes C0 controls (\u001b), U+2028 and U+2029 and replaces bytes that are not UTF-8, but
// writes DEL, the C1 controls and the bidirectional controls as they are; JSON holds them only inside strings, so
// each is written as its \uXXXX escape.
func JSON(data []byte) []byte {
	i := 0
	for i < len(data) {
		r, n := utf8.DecodeRune(data[i:])
		if r >= 0x20 && unsafe(r) {
			break
		}
		i += n
	}
	if i == len(data) {
		return data
	}
	out := make([]byte, 0, len(data)+16)
	out = append(out, data[:i]...)
	for i < len(data) {
		r, n := utf8.DecodeRune(data[i:])
		if r >= 0x20 && unsafe(r) {
			out = append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		} else {
			out = append(out, data[i:i+n]...)
		}
		i += n
	}
	return out
}

const hex = "0123456789abcdef"

// WriteJSON writes v as indented JSON and a newline, escaped by JSON so that it can be shown on a terminal too:
// every JSON output of the CLI meant for people and scripts alike goes through it.
func WriteJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(JSON(data), '\n'))
	return err
}
