// Package runbook decides what the deployment runbook says about a fleet: an overview with a topology picture of
// the admin-vs-tester split, a page per role, app and the hosts, the standard procedures, a changelog from the
// fleet repo's git history, and the fleet repo's own runbook/*.md pages rendered as templates with fleet data.
//
// It produces sitegen pages and leaves rendering to sitegen. Names are checked on the way: a template helper
// naming an unknown app, binary, role or host fails the build with file:line, and so does a code span naming an
// app or binary that the fleet's history had and HEAD no longer has, so the runbook never lists a gone service.
//
// # Templates in runbook/*.md
//
// Each page of the fleet repo's runbook/ folder is a Go text/template. Its dot is a TemplateData ({{ .Title }},
// {{ .FleetURL }}, ...) and these helpers name fleet objects (see Helpers):
//
//	{{ app "books" }}              link to the app's page, titled with the app's title
//	{{ binary "hero_books_web" }}  the binary as code, linked to its section of its app's page
//	{{ role "tester" }}            link to the role's page
//	{{ host "tester-07" }}         link to the host on the hosts page
//	{{ url "hero_books_web" }}     the binary's url as declared, as code
//	{{ listen "hero_books_web" }}  the binary's listen address, as code
//	{{ preinstalled "tester" }}    links to the apps a role preinstalls
//	{{ catalog "tester" }}         links to the apps a role installs on click
//	{{ bootstrap "tester" }}       the command that brings up a fresh VM of the role, as code
//
// A page that must show template syntax itself writes {{"{{"}}. A helper's output never spans lines, so the
// file:line of a later problem (a broken link, a stale name) is the line in the page as written.
//
// Pages link to each other with ordinary markdown links relative to the file (../apps/books.md#binaries); sitegen
// checks and rewrites them. A page's front matter may name its navigation section ("section: On call"); pages
// without one are listed under "Runbook".
package runbook
