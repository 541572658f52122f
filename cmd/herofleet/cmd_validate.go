package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herofleet/herofleet/fleet"
)

func init() {
	register(func(g *globals) *cobra.Command {
		var deep bool
		var rewrites []string
		cmd := &cobra.Command{
			Use:   "validate [DIR]",
			Short: "Check a fleet repo: exit 1 on a bad fleet (file:line:col errors), 2 if the check could not run",
			Long: `Check a fleet repo (the current directory by default) against every rule of the fleet format and
report all problems at once, each as file:line:col: message.

Exit status: 0 valid, 1 invalid, 2 the check could not run.`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if deep {
					return fmt.Errorf("--deep is not available in this build yet")
				}
				dir := dirArg(args)
				f, err := loadFleet(dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: fleet %q is valid: %d apps, %d roles, %d hosts\n", dir, f.Meta.Name, len(f.Apps), len(f.Roles), len(f.Hosts))
				return nil
			},
		}
		cmd.Flags().BoolVar(&deep, "deep", false, "also clone each app at its ref and compare its binaries with its service.toml")
		cmd.Flags().StringArrayVar(&rewrites, "rewrite", nil, "rewrite URLs starting with FROM to start with TO (`FROM=TO`), for --deep")
		return cmd
	})
}

func dirArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}

// loadFleet loads the fleet in dir; a fleet with problems is an invalid-input error (exit 1) listing them all.
func loadFleet(dir string) (*fleet.Fleet, error) {
	f, err := fleet.LoadDir(dir)
	var fe fleet.Errors
	if errors.As(err, &fe) {
		return nil, invalid(fmt.Errorf("%v\n%d problem(s) in %s", fe, len(fe), dir))
	}
	return f, err
}
