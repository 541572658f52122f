package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
)

// Config is the agent's own config file (product.md, "the agent's own config"). Unknown keys are errors.
type Config struct {
	Fleet             FleetRepo         `yaml:"fleet"`
	Host              string            `yaml:"host"`
	Role              string            `yaml:"role"`
	Address           string            `yaml:"address"`
	Dir               string            `yaml:"dir"`
	Listen            string            `yaml:"listen"`
	TokenFile         string            `yaml:"token_file"`
	Rewrite           map[string]string `yaml:"rewrite"`
	PluginsDir        string            `yaml:"plugins_dir"`
	SecretsDir        string            `yaml:"secrets_dir"`
	WebhookListen     string            `yaml:"webhook_listen"`
	WebhookSecretFile string            `yaml:"webhook_secret_file"`
	Verify            Verify            `yaml:"verify"`
	AllowRewind       bool              `yaml:"allow_rewind"`
	MetricsListen     string            `yaml:"metrics_listen"` // read-only, no token: /metrics, /healthz, /api/v1/status
	IdentityFile      string            `yaml:"identity_file"`  // the host's age identity: decrypts secrets/<host>/*.age

	// Fields of this agent, beyond the public contract.
	Path          string            `yaml:"path"`           // PATH of builds and binaries
	Lang          string            `yaml:"lang"`           // LANG of builds and binaries (C.UTF-8)
	BuildEnv      map[string]string `yaml:"build_env"`      // extra variables for builds only (the demo's Go caches)
	HealthTimeout Duration          `yaml:"health_timeout"` // how long a new revision has to become healthy (60s)
	StopGrace     Duration          `yaml:"stop_grace"`     // SIGTERM to SIGKILL (10s)
	LogMaxBytes   int64             `yaml:"log_max_bytes"`  // per binary log before rotation (10 MiB)
	BackoffMax    Duration          `yaml:"backoff_max"`    // longest delay between sync retries and binary restarts (5m / 1m)
	SyncTimeout   Duration          `yaml:"sync_timeout"`   // how long a sync may wait on the fleet repo's forge (30s)
	Schedule      string            `yaml:"schedule"`       // overrides the fleet's sync.schedule (tests, demo)
	// The drift check: each poll compares what every installed app runs with what was installed by a stat; every
	// drift_full_check (1h) it hashes every file, reading at most drift_read_mb_per_s (64 MB/s).
	DriftFullCheck  Duration `yaml:"drift_full_check"`
	DriftReadMBPerS int64    `yaml:"drift_read_mb_per_s"`
}

// FleetRepo is where the fleet repo lives.
type FleetRepo struct {
	Repo string `yaml:"repo"`
	Ref  string `yaml:"ref"`
}

// Verify is signed-commit verification: the keys a fleet commit must be signed with (see agent/trust).
type Verify struct {
	OpenPGPKeys       []string `yaml:"openpgp_keys"`
	SSHAllowedSigners string   `yaml:"ssh_allowed_signers"`
	Mode              string   `yaml:"mode"`
}

// Duration is a Go duration string in YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML reads "10s", "2m".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the Go form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Defaults.
const (
	DefaultPath   = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	DefaultLang   = "C.UTF-8"
	DefaultListen = "127.0.0.1:7070"
	DefaultDir    = "/var/lib/herofleet"
)

// The drift check's defaults: every file hashed once an hour, at most 64 MB/s read.
const (
	DefaultDriftFullCheck  = time.Hour
	DefaultDriftReadMBPerS = 64
)

// LoadConfig reads and checks a config file.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes a config strictly and fills in defaults.
func ParseConfig(data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.defaults()
	return c, c.check()
}

// DefaultSyncTimeout bounds what one sync waits on the fleet repo's forge (its ref listing and fetch). A forge cut
// off mid-connection (a link down, a firewall dropping packets) answers nothing at all, and without a bound the
// sync would hang for as long as TCP retries, with the status saying "syncing" and never why.
const DefaultSyncTimeout = 30 * time.Second

func (c *Config) defaults() {
	if c.Fleet.Ref == "" {
		c.Fleet.Ref = fleet.DefaultRef
	}
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Lang == "" {
		c.Lang = DefaultLang
	}
	if c.HealthTimeout.Duration <= 0 {
		c.HealthTimeout.Duration = time.Minute
	}
	if c.StopGrace.Duration <= 0 {
		c.StopGrace.Duration = 10 * time.Second
	}
	if c.SyncTimeout.Duration <= 0 {
		c.SyncTimeout.Duration = DefaultSyncTimeout
	}
	if c.DriftFullCheck.Duration <= 0 {
		c.DriftFullCheck.Duration = DefaultDriftFullCheck
	}
	if c.DriftReadMBPerS <= 0 {
		c.DriftReadMBPerS = DefaultDriftReadMBPerS
	}
	if c.PluginsDir == "" {
		c.PluginsDir = filepath.Join(c.Dir, "plugins")
	}
	if c.SecretsDir == "" {
		c.SecretsDir = filepath.Join(c.Dir, "secrets")
	}
	if c.Address == "" {
		c.Address = c.Host
	}
}

func (c *Config) check() error {
	var probs []string
	if c.Fleet.Repo == "" {
		probs = append(probs, "fleet.repo is required")
	}
	if c.Host == "" && c.Role == "" {
		probs = append(probs, "host or role is required")
	}
	if !filepath.IsAbs(c.Dir) {
		probs = append(probs, fmt.Sprintf("dir must be absolute, found %q", c.Dir))
	}
	if m := c.Verify.Mode; m != "" && m != "head" && m != "strict" {
		probs = append(probs, fmt.Sprintf("verify.mode must be head or strict, found %q", m))
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

// Token reads the bearer token; empty when no token file is configured.
func (c *Config) Token() (string, error) {
	if c.TokenFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// RewriteURL applies the config's rewrites: the longest matching prefix wins, like git's insteadOf.
func (c *Config) RewriteURL(u string) string { return source.Rewrites(c.Rewrite).Apply(u) }

// WebhookSecret reads the webhook secret; empty when no secret file is configured (every webhook is then
// refused).
func (c *Config) WebhookSecret() (string, error) {
	if c.WebhookSecretFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.WebhookSecretFile)
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
