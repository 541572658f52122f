package termtext

import (
	"encoding/json"
	"testing"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"tester-07":                "tester-07",
		"exited 1\nthree\ttimes\r": "exited 1 three times ",
		"\x1b]52;c;ZXZpbA==\x07ok": "\ufffd]52;c;ZXZpbA==\ufffdok",
		"\x1b[2J\x1b[31mred":       "\ufffd[2J\ufffd[31mred",
		"c1 \u009b31m del \x7f":    "c1 \ufffd31m del \ufffd",
		"raw c1 byte \x9b31m":      "raw c1 byte \ufffd31m",
		"bidi \u202egnp.exe":       "bidi \ufffdgnp.exe",
		"line\u2028sep":            "line sep",
		"ünïcödé, 日本, emoji 🚀 stay as they are": "ünïcödé, 日本, emoji 🚀 stay as they are",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// JSON keeps the value and leaves no byte a terminal acts on.
func TestJSON(t *testing.T) {
	in := "esc \x1b] del \x7f c1 \u009b bidi \u202e ok é"
	data, err := json.Marshal(map[string]string{"reason": in})
	if err != nil {
		t.Fatal(err)
	}
	safe := JSON(data)
	for _, r := range string(safe) {
		if unsafe(r) {
			t.Fatalf("%q still holds %U", safe, r)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(safe, &back); err != nil || back["reason"] != in {
		t.Errorf("%s reads back as %q (%v), want %q", safe, back["reason"], err, in)
	}
	if plain := []byte(`{"a":"b"}`); &JSON(plain)[0] != &plain[0] {
		t.Error("JSON with nothing to escape should be returned as it is")
	}
}
