// Command sitegen-bench times the command a user runs, `herofleet site build`, on a fleet whose runbook/ holds
// generated pages, beside Hugo (the `hugo` binary) rendering the same pages, in the same run. Each build is a whole
// process under /usr/bin/time -v (wall time, peak RSS); the outputs are measured too (largest page, total bytes).
//
//	bench/sitegen/run.sh                       # 2,000 pages, in one folder and in 20 sections, 5 runs each
package main
