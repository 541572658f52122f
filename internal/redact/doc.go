// Package redact is the one redaction of credentials in URLs: every place that prints a URL, or text that may
// hold one (an error, a reason, a log line, the runbook), goes through it, so a fleet, source or artifact URL
// written as https://user:token@host/ never shows its token.
package redact
