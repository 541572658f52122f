// Package source keeps full clones of git repos, one bare repo per URL, and resolves refs in them locally: a
// 40-hex ref is a commit, anything else a branch, then a tag. Shallow fetches are avoided on purpose (fragile in
// go-git); a remote is listed first (at most once per round) and fetched only when the ref moved. The agent keeps
// its app sources here; `validate --deep` and `herofleet build` read apps through it too.
package source
