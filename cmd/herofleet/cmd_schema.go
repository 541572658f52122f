package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herofleet/herofleet/fleet"
)

func newSchemaCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the fleet files, for editors",
		Long: `Print a JSON Schema of the fleet repo's files (fleet.yaml, apps/*.yaml, roles/*.yaml, hosts/*.yaml),
generated from herofleet's own types. Point your editor's YAML language server at it, e.g. with
# yaml-language-server: $schema=herofleet.schema.json#/$defs/App`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSchema(cmd.Context(), schemaOptions{}, g, streamsOf(cmd), args)
		},
	}
}

// schemaOptions: schema has no flags of its own.
type schemaOptions struct{}

func runSchema(_ context.Context, _ schemaOptions, _ *globals, s streams, _ []string) error {
	out, err := json.MarshalIndent(fleet.Schema(), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(s.out, string(out))
	return err
}
