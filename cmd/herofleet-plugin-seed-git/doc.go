// Command herofleet-plugin-seed-git is the seed-git hook plugin: it clones git repositories into an app's data
// directory when they are absent, e.g. Hero Books' default public libraries at its first start.
//
//	hooks:
//	  - plugin: seed-git
//	    on: pre-start
//	    with:
//	      into: "${data}/libraries"
//	      repos:
//	        - {name: hero-docs, url: https://forge.ourworld.tf/lhumina_code/hero_docs.git, ref: main}
//
// A repo is cloned to <into>/<name> only when that path does not exist, so the hook is idempotent and never
// touches a library the app has since changed. `into` must stay inside ${data}, also through symlinks.
package main
