package redact_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/internal/redact"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		`clone https://user:s3cret@forge.example/apps/books.git: 401`: `clone https://user:xxxxx@forge.example/apps/books.git: 401`,
		`fetch "https://ghp_T0KEN@github.com/x.git" failed`:           `fetch "https://xxxxx@github.com/x.git" failed`,
		`two: http://a:b@h/ and https://c:d@i/x`:                      `two: http://a:xxxxx@h/ and https://c:xxxxx@i/x`,
		`ssh://git@forge.example/fleet.git`:                           `ssh://git@forge.example/fleet.git`,
		`mail me: someone@example.org, see https://forge.example/`:    `mail me: someone@example.org, see https://forge.example/`,
		`https://forge.example/a@b`:                                   `https://forge.example/a@b`,
	} {
		if got := redact.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redact.Handler(slog.NewTextHandler(&buf, nil))).With("fleet", "https://u:s3cret@h/f.git")
	log.Warn("sync https://u:s3cret@h/f.git failed", "err", errors.New("GET https://u:s3cret@h/f.git: 500"),
		slog.Group("g", "url", "https://u:s3cret@h/"))
	if strings.Contains(buf.String(), "s3cret") || !strings.Contains(buf.String(), "u:xxxxx@h") {
		t.Fatalf("log: %s", buf.String())
	}
}
