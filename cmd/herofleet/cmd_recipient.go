package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/secrets"
)

func newRecipientCommand(g *globals) *cobra.Command {
	var opts recipientOptions
	cmd := &cobra.Command{
		Use:   "recipient --identity FILE",
		Short: "Print the age recipient (age1…) of an identity file, for hosts/<host>.yaml or fleet.yaml",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecipient(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type recipientOptions struct{ identity string }

func (o *recipientOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.identity, "identity", "", "age identity `FILE` (a host's etc/herofleet/host.key, or age-keygen's output)")
}

func runRecipient(_ context.Context, opts recipientOptions, _ *globals, s streams, _ []string) error {
	if opts.identity == "" {
		return invalid(fmt.Errorf("--identity FILE is required"))
	}
	id, err := secrets.LoadIdentity(opts.identity)
	if err != nil {
		return invalid(err)
	}
	fmt.Fprintln(s.out, id.Recipient())
	return nil
}
