// Package window says when disruptive changes (upgrades, restarts, removals) may happen: inside one of the
// fleet's maintenance windows, each a cron schedule of its start (fleet.ParseSchedule: CRON_TZ= for a time zone, UTC
// otherwise) and a duration. A fleet with no windows is always open. Time is passed in, never read, so tests
// drive it with a clock of their own.
package window
