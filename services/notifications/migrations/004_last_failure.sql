-- When the endpoint's latest failed attempt ended. The failure clock (failing_since) only runs
-- while attempts go on: a failure after a pause longer than any retry waits (the dispatcher was
-- down, say) starts it again, rather than disabling an endpoint that nobody tried meanwhile.
ALTER TABLE subscriptions ADD COLUMN last_failure_at timestamptz;
