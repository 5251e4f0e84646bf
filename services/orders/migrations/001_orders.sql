-- Orders and what happened to each, in the orders service's own schema.
CREATE TABLE orders (
  order_id uuid PRIMARY KEY,
  client_id text NOT NULL,
  customer_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('placed', 'reserved', 'confirmed', 'cancelled')),
  total numeric(12, 2) NOT NULL,
  currency char(3) NOT NULL,
  body jsonb NOT NULL,
  cancel_reason text,
  placed_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- One row per event applied to an order, in the order applied.
CREATE TABLE order_history (
  id bigserial PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES orders (order_id),
  event text NOT NULL,
  event_id text NOT NULL,
  status text NOT NULL,
  detail text,
  at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX order_history_by_order ON order_history (order_id, id);

-- Idempotency-Key of each POST /orders, per caller: a retry gets the same order, never a second one.
CREATE TABLE idempotency_keys (
  client_id text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  order_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, idempotency_key)
);
