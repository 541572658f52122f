package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herofleet/herofleet/fleet"
)

func newSchemaCommand(_ *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the fleet files, for editors",
		Long: `Print a JSON Schema of the fleet repo's files (fleet.yaml, apps/*.yaml, roles/*.yaml, hosts/*.yaml),
generated from herofleet's own types. Point your editor's YAML language server at it, e.g. with
# yaml-language-server: $schema=herofleet.schema.json#/$defs/App`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSchema(streamsOf(cmd))
		},
	}
}

func runSchema(s streams) error {
	out, err := json.MarshalIndent(fleet.Schema(), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(s.out, string(out))
	return err
}
