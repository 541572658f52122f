package bootstrap

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/fleet"
)

const configHeader = `herofleet agent config, written by "herofleet bootstrap" (docs/provisioning.md).
bootstrap owns fleet, host, role, address, dir, listen, metrics_listen (--address on port ` + fleet.DefaultAgentPort + `, where the fleet's
Prometheus and "herofleet fleet status" look), token_file, rewrite, plugins_dir, secrets_dir and identity_file;
other keys added here (verify, webhook_listen, …) are kept when it runs again.`

// field is one config key bootstrap owns; a nil value leaves the key out.
type field struct {
	key   string
	value any
}

type fleetRepo struct {
	Repo string `yaml:"repo"`
	Ref  string `yaml:"ref"`
}

func (o *Options) fields() []field {
	var address, metricsListen, rewrite any
	if o.Address != "" {
		address, metricsListen = o.Address, o.MetricsListen()
	}
	if len(o.Rewrite) > 0 {
		rewrite = o.Rewrite
	}
	return []field{
		{"fleet", fleetRepo{Repo: o.Fleet, Ref: o.Ref}},
		{"host", o.Host},
		{"role", o.Role},
		{"address", address},
		{"dir", StateDir},
		{"listen", Listen},
		{"metrics_listen", metricsListen},
		{"token_file", TokenPath},
		{"rewrite", rewrite},
		{"plugins_dir", PluginsDir},
		{"secrets_dir", SecretsDir},
		{"identity_file", IdentityPath},
	}
}

// renderConfig writes bootstrap's keys into the existing config (nil: there is none), keeping every other key
// and comment, and says in words what changed. The result is checked with the agent's own config parser.
func renderConfig(old []byte, o *Options) ([]byte, []string, error) {
	doc, err := configDoc(old)
	if err != nil {
		return nil, nil, err
	}
	m := doc.Content[0]
	var changes []string
	next := 0 // where a missing key goes: after the owned key before it, so a new file reads in a fixed order
	for _, f := range o.fields() {
		i := keyIndex(m, f.key)
		if f.value == nil {
			if i >= 0 {
				changes = append(changes, fmt.Sprintf("%s removed (was %s)", f.key, show(m.Content[i+1])))
				m.Content = append(m.Content[:i], m.Content[i+2:]...)
				if next > i {
					next = i
				}
			}
			continue
		}
		v := &yaml.Node{}
		if err := v.Encode(f.value); err != nil {
			return nil, nil, fmt.Errorf("agent config %s: %w", f.key, err)
		}
		if v.Kind == yaml.MappingNode {
			v.Style = yaml.FlowStyle
		}
		switch {
		case i < 0:
			key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}
			m.Content = slices.Insert(m.Content, next, key, v)
			i = next
			if old != nil {
				changes = append(changes, fmt.Sprintf("%s: %s (added)", f.key, show(v)))
			}
		case !sameValue(m.Content[i+1], v):
			changes = append(changes, fmt.Sprintf("%s: %s -> %s", f.key, show(m.Content[i+1]), show(v)))
			m.Content[i+1] = v
		}
		next = i + 2
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, nil, fmt.Errorf("agent config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("agent config: %w", err)
	}
	if _, err := agent.ParseConfig(b.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("%s does not load with the agent: %w", ConfigPath, err)
	}
	return b.Bytes(), changes, nil
}

// configDoc parses an existing config, or starts a new one.
func configDoc(old []byte) (*yaml.Node, error) {
	doc := &yaml.Node{}
	if len(bytes.TrimSpace(old)) > 0 {
		if err := yaml.Unmarshal(old, doc); err != nil {
			return nil, fmt.Errorf("existing %s: %w (fix it or move it away)", ConfigPath, err)
		}
	}
	if doc.Kind == 0 {
		doc = &yaml.Node{Kind: yaml.DocumentNode, HeadComment: configHeader}
	}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	if doc.Kind != yaml.DocumentNode || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("existing %s is not a YAML mapping (fix it or move it away)", ConfigPath)
	}
	return doc, nil
}

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// sameValue compares what two nodes mean, not how they are written: a hand-formatted value that means the same
// is left as it is.
func sameValue(a, b *yaml.Node) bool {
	var x, y any
	if a.Decode(&x) != nil || b.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// show is a value on one line, for the change report.
func show(n *yaml.Node) string {
	c := *n
	if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
		c.Style = yaml.FlowStyle
	}
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
