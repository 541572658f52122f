package fleet

import (
	"github.com/invopop/jsonschema"
)

// Schema is a JSON Schema of the fleet files, generated from the types above. The root describes fleet.yaml;
// $defs/App, $defs/Role and $defs/Host describe apps/*.yaml, roles/*.yaml and hosts/*.yaml.
func Schema() *jsonschema.Schema {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             false,
	}
	root := r.Reflect(&Meta{})
	root.ID = "https://herofleet.dev/schema/fleet.json"
	root.Title = "herofleet fleet repo"
	for _, v := range []any{&App{}, &Role{}, &Host{}} {
		s := r.Reflect(v)
		for name, def := range s.Definitions {
			root.Definitions[name] = def
		}
	}
	return root
}

// JSONSchema describes a Duration as the string it is written as.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
		Description: "a Go duration: 10s, 2m, 1h30m",
	}
}
