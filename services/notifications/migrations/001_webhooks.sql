-- Webhook subscriptions of downstream teams, in the notifications service's own schema.
CREATE TABLE subscriptions (
  subscription_id uuid PRIMARY KEY,
  -- The OAuth client that made it: the only one that sees or changes it.
  owner text NOT NULL,
  url text NOT NULL,
  -- Exact types (com.junction.orders.OrderPlaced) or patterns (com.junction.orders.*, *).
  event_types text[] NOT NULL,
  description text,
  -- A key's later events wait until its earlier ones are delivered (or given up on).
  ordered boolean NOT NULL DEFAULT false,
  -- Whether its owner may read personal fields: they are masked otherwise.
  pii boolean NOT NULL DEFAULT false,
  -- active, or disabled (by its owner, or after failing past the bound): nothing is sent while
  -- disabled; events still queue, and enabling it again resumes from where it stopped.
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason text,
  -- Since when every attempt has failed; null while the endpoint answers.
  failing_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_owner ON subscriptions (owner, created_at);

-- Signing secrets: the current one (expires_at null) and, after a rotation, the previous one
-- until the overlap ends. Deliveries are signed with every secret still valid.
CREATE TABLE subscription_secrets (
  subscription_id uuid NOT NULL REFERENCES subscriptions ON DELETE CASCADE,
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  PRIMARY KEY (subscription_id, created_at)
);

-- Each event once, as CloudEvents JSON: whole, and with personal fields masked.
CREATE TABLE webhook_events (
  event_id uuid PRIMARY KEY,
  event_type text NOT NULL,
  key text NOT NULL,
  body text NOT NULL,
  masked_body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One event for one subscription. `seq` orders a key's deliveries for ordered subscriptions.
CREATE TABLE deliveries (
  delivery_id uuid PRIMARY KEY,
  seq bigserial NOT NULL,
  subscription_id uuid NOT NULL REFERENCES subscriptions ON DELETE CASCADE,
  event_id uuid NOT NULL REFERENCES webhook_events,
  key text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  -- A replay starts a new round: its attempts and age count from here.
  round_attempts integer NOT NULL DEFAULT 0,
  round_started_at timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A dispatcher holds a delivery until then; one that died lets it go when this passes.
  leased_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  last_error text,
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_key ON deliveries (subscription_id, key, seq) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);

-- Every attempt, as the endpoint answered it (or did not).
CREATE TABLE delivery_attempts (
  delivery_id uuid NOT NULL REFERENCES deliveries ON DELETE CASCADE,
  attempt integer NOT NULL,
  subscription_id uuid NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error text,
  response_body text,
  PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX delivery_attempts_subscription ON delivery_attempts (subscription_id, started_at DESC);
