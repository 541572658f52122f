// Package trust decides whether an agent may apply a fleet commit: the commit must descend from the one applied
// (no rewinds, unless the agent's config allows them) and, when the config lists trusted keys, be signed by one
// of them — OpenPGP keys checked through go-git, SSH keys (git's allowed_signers format) through sshsig. Keys come
// from the agent's own config, never from the fleet repo.
package trust
