-- What billing knows of each order (from OrderPlaced and OrderCancelled), in its own schema.
CREATE TABLE orders (
  order_id uuid PRIMARY KEY,
  total numeric(12, 2) NOT NULL,
  currency char(3) NOT NULL,
  cancelled boolean NOT NULL DEFAULT false,
  cancel_reason text
);

-- At most one payment per order: charged once, refunded at most once.
CREATE TABLE payments (
  payment_id uuid PRIMARY KEY,
  order_id uuid NOT NULL UNIQUE REFERENCES orders (order_id),
  status text NOT NULL CHECK (status IN ('captured', 'failed', 'refunded')),
  amount numeric(12, 2) NOT NULL,
  currency char(3) NOT NULL,
  provider_charge text,
  provider_refund text,
  failure_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  refunded_at timestamptz
);
