// Package runbook decides what the deployment runbook says about a fleet: an overview with a topology picture of
// the admin-vs-tester split, a page per role, app and the hosts, the standard procedures, a changelog from the
// fleet repo's git history, and the fleet repo's own runbook/*.md pages rendered as templates with fleet data.
//
// It produces sitegen pages and leaves rendering to sitegen. Names are checked on the way: a template helper
// naming an unknown app, binary, role or host fails the build with file:line, and so does a code span naming an
// app or binary that the fleet's history had and HEAD no longer has, so the runbook never lists a gone service.
package runbook
