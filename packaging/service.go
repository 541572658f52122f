package packaging

import (
	"bytes"
	_ "embed"
	"fmt"
	"path"
	"strings"
	"text/template"
)

// ServiceName is the agent's service under systemd (herofleet-agent.service) and zinit (herofleet-agent).
const ServiceName = "herofleet-agent"

// Service is what the agent's service files point at: the herofleet binary, the agent's config, and the one
// directory outside /var/lib the agent writes to (the config's secrets_dir), which the systemd unit's
// ProtectSystem=full would otherwise leave read-only.
type Service struct {
	Bin        string // absolute path of the herofleet binary
	Config     string // absolute path of the agent's config
	SecretsDir string // absolute path of the config's secrets_dir
}

// Packaged is the service the Debian package installs: the paths `herofleet bootstrap` writes.
var Packaged = Service{Bin: "/usr/bin/herofleet", Config: "/etc/herofleet/agent.yaml", SecretsDir: "/etc/herofleet/secrets"}

var (
	//go:embed herofleet-agent.service
	unitText string
	//go:embed herofleet-agent.zinit.yaml
	zinitText string

	unitTmpl  = template.Must(template.New("unit").Option("missingkey=error").Parse(unitText))
	zinitTmpl = template.Must(template.New("zinit").Option("missingkey=error").Parse(zinitText))
)

// SystemdUnit renders herofleet-agent.service.
func (s Service) SystemdUnit() ([]byte, error) { return s.render(unitTmpl) }

// ZinitService renders the zinit service file herofleet-agent.yaml.
func (s Service) ZinitService() ([]byte, error) { return s.render(zinitTmpl) }

func (s Service) render(t *template.Template) ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, s); err != nil {
		return nil, fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return b.Bytes(), nil
}

// Check keeps the paths to what both init systems take literally on an exec line (or systemd in ReadWritePaths):
// absolute, clean, and with no white space, quotes, % (systemd specifiers) or $ (expansion).
func (s Service) Check() error {
	for _, p := range []struct{ what, path string }{{"binary", s.Bin}, {"config", s.Config}, {"secrets dir", s.SecretsDir}} {
		switch {
		case !path.IsAbs(p.path) || path.Clean(p.path) != p.path:
			return fmt.Errorf("service %s path must be absolute and clean, found %q", p.what, p.path)
		case strings.ContainsAny(p.path, " \t\r\n\"'\\%$;"):
			return fmt.Errorf("service %s path %q holds a character an exec line would not take literally", p.what, p.path)
		}
	}
	return nil
}
