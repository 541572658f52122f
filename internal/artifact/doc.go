// Package artifact packs a built app tree into a reproducible archive (so one build can serve a whole fleet) and
// fetches one back: download (bounded), sha256 checked before anything is unpacked, and every entry kept inside
// the target directory (no "..", no absolute paths, no links that point out, no devices).
package artifact
