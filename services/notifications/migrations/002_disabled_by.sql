-- Who disabled a subscription: its owner, or the dispatcher after every attempt failed past the
-- bound. The metrics and the alert tell the two apart; an owner's choice raises no alert.
ALTER TABLE subscriptions ADD COLUMN disabled_by text CHECK (disabled_by IN ('owner', 'failures'));
UPDATE subscriptions SET disabled_by = CASE WHEN disabled_reason LIKE 'every attempt failed%' THEN 'failures' ELSE 'owner' END
 WHERE status = 'disabled';
