package agent

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfigStrictWithDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(`
fleet: {repo: https://forge.example/ops/hero-fleet.git, ref: main}
host: tester-07
role: tester
address: "[4a5:1c2::7]"
dir: /var/lib/herofleet
listen: 127.0.0.1:7070
token_file: /etc/herofleet/token
rewrite: {"https://forge.ourworld.tf/": "http://127.0.0.1:8080/"}
plugins_dir: /usr/lib/herofleet/plugins
secrets_dir: /etc/herofleet/secrets
webhook_listen: "[4a5:1c2::7]:7071"
webhook_secret_file: /etc/herofleet/webhook-secret
verify: {openpgp_keys: [/etc/herofleet/keys/ops.asc], ssh_allowed_signers: /etc/herofleet/allowed_signers, mode: head}
allow_rewind: false
health_timeout: 30s
`))
	if err != nil {
		t.Fatalf("product.md's example config: %v", err)
	}
	if c.Path != DefaultPath || c.Lang != DefaultLang || c.HealthTimeout.Duration != 30*time.Second || c.StopGrace.Duration != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	for _, bad := range []string{
		"fleet: {repo: x}\nrole: r\ndir: /x\nlisten_on: 1\n", // unknown key
		"fleet: {repo: x, branch: main}\nrole: r\n",          // unknown nested key
		"role: r\n",          // no fleet repo
		"fleet: {repo: x}\n", // neither host nor role
		"fleet: {repo: x}\nrole: r\ndir: relative\n",        // relative dir
		"fleet: {repo: x}\nrole: r\nhealth_timeout: soon\n", // bad duration
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if c, _ := ParseConfig([]byte("fleet: {repo: x}\nhost: h1\n")); c.Address != "h1" || c.Dir != DefaultDir {
		t.Fatalf("address defaults to the host's name: %+v", c)
	}
}

func TestRewriteLongestPrefixWins(t *testing.T) {
	c := &Config{Rewrite: map[string]string{
		"https://forge.ourworld.tf/":              "http://127.0.0.1:8080/",
		"https://forge.ourworld.tf/lhumina_code/": "http://mirror/lc/",
	}}
	for in, want := range map[string]string{
		"https://forge.ourworld.tf/lhumina_code/hero_books.git": "http://mirror/lc/hero_books.git",
		"https://forge.ourworld.tf/other/x.git":                 "http://127.0.0.1:8080/other/x.git",
		"https://github.com/x/y.git":                            "https://github.com/x/y.git",
	} {
		if got := c.RewriteURL(in); got != want {
			t.Errorf("RewriteURL(%s) = %s, want %s", in, got, want)
		}
	}
	if !strings.HasPrefix(c.RewriteURL("https://forge.ourworld.tf/"), "http://127.0.0.1:8080/") {
		t.Error("exact prefix")
	}
}
