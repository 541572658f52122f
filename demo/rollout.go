package demo

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// joinFirstWave puts the demo's VMs in the first rollout wave of the fleet in dir, if it has waves: the demo runs
// no Prometheus, and a VM of a later wave would hold every commit after its first for want of an answer (no answer
// is a no). The example fleet's own waves are kept for its own hosts.
func joinFirstWave(dir string, hosts ...string) error {
	path := filepath.Join(dir, "fleet.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("fleet.yaml: %w", err)
	}
	waves := lookup(lookup(doc.Content[0], "rollout"), "waves")
	if waves == nil || waves.Kind != yaml.SequenceNode || len(waves.Content) < 2 {
		return nil
	}
	first := waves.Content[0]
	list := lookup(first, "hosts")
	if list == nil {
		return nil // a first wave by percent or a catch-all: the demo's VMs are placed as any other
	}
	for _, h := range hosts {
		list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: h})
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// lookup is the value of key in a mapping node, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
