package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/secrets"
)

func newSecretsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Keep per-host secrets encrypted in the fleet repo (age): set, list, rekey, issue",
		Long: `A host's secrets are files secrets/<host>/<name>.age of the fleet repo, encrypted with age to the host's
recipient (hosts/<host>.yaml) and the operators' (fleet.yaml secrets.recipients). The agent decrypts its own
host's files into its secrets dir before any hook runs. Values are never printed.`,
	}
	cmd.AddCommand(newSecretsSetCommand(g), newSecretsListCommand(g), newSecretsRekeyCommand(g), newSecretsIssueCommand(g))
	return cmd
}

func newSecretsSetCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "set HOST NAME [DIR]",
		Short: "Encrypt the value on stdin as secrets/HOST/NAME.age, to the host and the operators",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsSet(cmd.Context(), secretsSetOptions{}, g, streamsOf(cmd), args)
		},
	}
}

// secretsSetOptions: secrets set has no flags of its own.
type secretsSetOptions struct{}

// runSecretsSet reads the value from stdin (s.in).
func runSecretsSet(_ context.Context, _ secretsSetOptions, _ *globals, s streams, args []string) error {
	dir := dirArg(args[2:])
	f, err := loadFleet(dir)
	if err != nil {
		return err
	}
	value, err := io.ReadAll(io.LimitReader(s.in, secrets.MaxValue+1))
	if err != nil {
		return fmt.Errorf("read the value from stdin: %w", err)
	}
	if len(value) > secrets.MaxValue {
		return invalid(fmt.Errorf("the value on stdin is larger than %d bytes", secrets.MaxValue))
	}
	rel, err := secrets.Set(f, dir, args[0], args[1], value)
	if err != nil {
		return invalid(err)
	}
	fmt.Fprintf(s.out, "wrote %s (%d recipients); commit it\n", rel, len(f.RecipientsOf(args[0])))
	return nil
}

func newSecretsListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list [DIR]",
		Short: "List each host's secrets by name (never a value)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsList(cmd.Context(), secretsListOptions{}, g, streamsOf(cmd), args)
		},
	}
}

// secretsListOptions: secrets list has no flags of its own.
type secretsListOptions struct{}

func runSecretsList(_ context.Context, _ secretsListOptions, _ *globals, s streams, args []string) error {
	f, err := loadFleet(dirArg(args))
	if err != nil {
		return err
	}
	for _, e := range secrets.List(f) {
		fmt.Fprintf(s.out, "%s\t%s\t%s\n", e.Host, e.Name, e.File)
	}
	return nil
}

func newSecretsRekeyCommand(g *globals) *cobra.Command {
	var opts secretsRekeyOptions
	cmd := &cobra.Command{
		Use:   "rekey --identity FILE [DIR]",
		Short: "Re-encrypt every secret to its host's current recipients (after a recipient changed)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsRekey(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type secretsRekeyOptions struct{ identity string }

func (o *secretsRekeyOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.identity, "identity", "", "an operator's age identity `FILE` (its recipient is in fleet.yaml secrets.recipients)")
}

func runSecretsRekey(_ context.Context, opts secretsRekeyOptions, _ *globals, s streams, args []string) error {
	if opts.identity == "" {
		return invalid(fmt.Errorf("--identity FILE is required: rekey decrypts every secret first"))
	}
	id, err := secrets.LoadIdentity(opts.identity)
	if err != nil {
		return invalid(err)
	}
	dir := dirArg(args)
	f, err := loadFleet(dir)
	if err != nil {
		return err
	}
	done, err := secrets.Rekey(f, dir, id)
	for _, file := range done {
		fmt.Fprintf(s.out, "rekeyed %s\n", file)
	}
	if err != nil {
		return invalid(err)
	}
	fmt.Fprintf(s.out, "%d secrets rekeyed; commit them\n", len(done))
	return nil
}

func newSecretsIssueCommand(g *globals) *cobra.Command {
	var opts secretsIssueOptions
	cmd := &cobra.Command{
		Use:   "issue NAME --role R --for HOST [--revoke H] [DIR]",
		Short: "Give every host of a role its own random token NAME, and HOST the tokens' sha256 as NAME-hashes",
		Long: `Give every host of role R that lacks one its own random token, as secret NAME encrypted to it, and the
engine's host (--for) the sha256 of every valid token as secret NAME-hashes ("<sha256> <host>" lines). It needs
recipients only (the sha256 list is kept in the clear in secrets/HOST/NAME-hashes.sha256), so fleet CI can run it
whenever a host file is added. --revoke H withdraws H's token for good. Nothing is written when nothing changes.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsIssue(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type secretsIssueOptions struct {
	role, forHost string
	revoke        []string
}

func (o *secretsIssueOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.role, "role", "", "every host of this `ROLE` gets a token")
	f.StringVar(&o.forHost, "for", "", "the engine's `HOST`: it gets NAME-hashes")
	f.StringArrayVar(&o.revoke, "revoke", nil, "withdraw `HOST`'s token (repeatable)")
}

func runSecretsIssue(_ context.Context, opts secretsIssueOptions, _ *globals, s streams, args []string) error {
	if opts.role == "" || opts.forHost == "" {
		return invalid(fmt.Errorf("--role and --for are required"))
	}
	dir := dirArg(args[1:])
	f, err := loadFleet(dir)
	if err != nil {
		return err
	}
	res, err := secrets.Issue(f, dir, secrets.IssueOptions{Name: args[0], Role: opts.role, For: opts.forHost, Revoke: opts.revoke})
	if err != nil {
		return invalid(err)
	}
	say := func(what string, hosts []string) {
		if len(hosts) > 0 {
			fmt.Fprintf(s.out, "%s: %s\n", what, strings.Join(hosts, " "))
		}
	}
	say("issued", res.Issued)
	say("revoked", res.Revoked)
	say("dropped (no longer of role "+opts.role+", or no recipient and no token file)", res.Dropped)
	say("skipped (no recipient)", res.Skipped)
	if !res.Changed {
		fmt.Fprintln(s.out, "nothing to change")
	}
	return nil
}
