// Package secrets keeps a host's secrets encrypted in the fleet repo with age (X25519, the format Debian's age
// reads and writes), the way agenix and sops-nix do for NixOS hosts.
//
// Each VM holds an age identity (identity.go); its recipient sits in hosts/<host>.yaml. A secret is the file
// secrets/<host>/<name>.age, encrypted to that host's recipient and to the operators' recipients of fleet.yaml
// (crypt.go). Setting, listing and re-encrypting secrets work on a fleet directory (store.go); issuing per-host
// tokens for a shared engine needs recipients only, so CI can run it (issue.go). The agent decrypts its own host's
// files into its secrets dir (agent/secrets.go). Values never leave this package except into that dir or a pipe
// the operator asked for.
package secrets
