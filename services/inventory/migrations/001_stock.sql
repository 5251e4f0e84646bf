-- Stock per SKU, in the inventory service's own schema. Conserved: what was put in is always
-- available + reserved (held reservations), whatever happens to orders.
CREATE TABLE items (
  sku text PRIMARY KEY,
  name text NOT NULL,
  available integer NOT NULL CHECK (available >= 0),
  reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0)
);

-- One row per order seen: what it holds, or why it was refused.
CREATE TABLE reservations (
  order_id uuid PRIMARY KEY,
  reservation_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('held', 'rejected', 'released')),
  lines jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz
);
