-- An endpoint's pending deliveries in order: the dispatcher's look for due work and its claim
-- walk this from the oldest and stop at the first they can take, however long the backlog
-- (before it, each round read every due delivery of every endpoint: a dead endpoint's backlog
-- slowed the healthy ones).
CREATE INDEX deliveries_pending ON deliveries (subscription_id, seq) WHERE status = 'pending';
