// Package sitegen renders a set of markdown pages into a static HTML site that works offline and from file://.
//
// It knows nothing about fleets: callers hand it pages (a slash path, a title, markdown and the source name used in
// error messages) and static files. A build parses every page (GitHub-flavoured markdown, YAML front matter, heading
// IDs), checks every local link and #anchor, rewrites links to relative ".../index.html" paths, highlights code at
// build time with CSS classes, and writes each page with navigation, a table of contents, a search box backed by an
// index loaded as a script when search is first used, and a light/dark theme. The navigation lists every section by
// its title and only the page's own section (paged in groups when it is big), so no page grows with the pages of
// other sections. The same input always produces byte-identical output.
package sitegen
