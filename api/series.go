package api

// The series of the agent's /metrics. The agent declares them with these names; `herofleet fleet status
// --prometheus`, the rollout gate, the alerting rules and the benchmarks' simulated hosts read them by these names.
const (
	// Counted as they happen.
	SeriesSyncs          = "herofleet_syncs_total"            // syncs of the fleet repo, successful or not
	SeriesSyncFailures   = "herofleet_sync_failures_total"    // syncs that failed
	SeriesSyncRequests   = "herofleet_sync_requests_total"    // syncs asked for out of schedule
	SeriesBuildDuration  = "herofleet_build_duration_seconds" // histogram of one app revision's build, by app and result
	SeriesApplyDuration  = "herofleet_apply_duration_seconds" // histogram of one app revision's apply, by app and result
	SeriesBinaryRestarts = "herofleet_binary_restarts_total"  // restarts of a binary by the supervisor, by app and binary

	// Read from a status snapshot at each scrape.
	SeriesFleetApplied   = "herofleet_fleet_applied_info"                // the applied fleet commit and the fleet state (value 1)
	SeriesFleetLastSync  = "herofleet_fleet_last_sync_timestamp_seconds" // when the fleet repo was last synced
	SeriesFleetRefused   = "herofleet_fleet_refused_commits"             // fleet commits refused since the last good one
	SeriesAppQuarantined = "herofleet_app_quarantined"                   // 1 per quarantined app
	SeriesAppState       = "herofleet_app_state"                         // 1 for each app's state
	SeriesBinaryState    = "herofleet_binary_state"                      // 1 for each installed binary's state
	SeriesAppDrift       = "herofleet_app_drift"                         // 1 per installed app whose files drifted since install, else 0

	// The fleet view: what fleet status, the rules and the rollout gate judge a host by.
	SeriesHostInfo       = "herofleet_host_info"                               // the host's name and role (value 1)
	SeriesFleetHead      = "herofleet_fleet_head_info"                         // the newest fleet commit the host has seen (value 1)
	SeriesFleetAppliedAt = "herofleet_fleet_applied_timestamp_seconds"         // when the applied fleet commit was applied
	SeriesSyncPeriod     = "herofleet_sync_period_seconds"                     // the time between two scheduled syncs
	SeriesAppInfo        = "herofleet_app_info"                                // each app the host should run, its revision and state (value 1)
	SeriesAppsExpected   = "herofleet_apps_expected"                           // the apps the host should run
	SeriesAppsRunning    = "herofleet_apps_running"                            // of those, the ones with every binary running
	SeriesHostHealthy    = "herofleet_host_healthy"                            // 1 when the host is healthy on its applied commit
	SeriesHealthyOn      = "herofleet_host_healthy_on_commit"                  // the same, labelled with the applied commit: the bake counts its samples
	SeriesRolloutWave    = "herofleet_rollout_wave_info"                       // the host's rollout wave (value 1)
	SeriesRolloutWaiting = "herofleet_rollout_waiting_since_timestamp_seconds" // since when the host holds a commit back for the earlier waves
	SeriesProblem        = "herofleet_problem_info"                            // each app or binary that is not fine, its state and reason code (value 1)
	SeriesAgentVersion   = "herofleet_agent_version_info"                      // the herofleet version the agent runs (value 1)
)

// RecordAgentTarget is the series the alerting rules record (`herofleet prometheus rules`; a recording rule's name,
// hence its colon), not the agent's: each scrape target that is a herofleet agent (its instance, job and host),
// remembered from its herofleet_host_info while Prometheus still scrapes it, so the rules know an agent they cannot
// scrape whatever the scrape job is.
const RecordAgentTarget = "herofleet:agent_target"

// ProcessStart is the standard process collector's series of the agent's start time (not a herofleet series): the
// gate counts its changes over the bake (a restarted agent starts the bake again), never reads its value.
const ProcessStart = "process_start_time_seconds"

// The labels of the agent's series.
const (
	LabelHost    = "host"    // the host's name in the fleet
	LabelRole    = "role"    // the host's role
	LabelCommit  = "commit"  // a fleet commit
	LabelState   = "state"   // a SyncState, AppState, BinaryState or a problem's state
	LabelApp     = "app"     // an app's name
	LabelRev     = "rev"     // an app's installed revision
	LabelBinary  = "binary"  // a binary's name ("" for a problem of a whole app)
	LabelCode    = "code"    // a ReasonCode (or the problem's state when it has none)
	LabelWave    = "wave"    // a rollout wave's name
	LabelResult  = "result"  // how a build or an apply ended: ResultOK or ResultFailed
	LabelVersion = "version" // the agent's herofleet version
)

// The values of LabelResult.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// SeriesPrefix begins the name of every herofleet series.
const SeriesPrefix = "herofleet_"
