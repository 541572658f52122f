package fleet

// Commits are shown short at two lengths, each the contract of the texts that use it:
//
//   - ShortCommit, 7 hex digits as git log --oneline shows them: the plan's and the lock's texts (fleet.lock moves,
//     `herofleet lock`), rollout status and verdicts.
//   - ShortRev, 12 hex digits: the agent's logs, reasons and refusals, `herofleet status`, the fleet view, the
//     cockpit, the manifest errors and the seed-git plugin's report.
//
// Both return a shorter string unchanged (an empty one stays empty).

// ShortCommit is a commit as git log --oneline shows it (7 hex digits).
func ShortCommit(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

// ShortRev is a commit as the agent's logs and status show it (12 hex digits).
func ShortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
