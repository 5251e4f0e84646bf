-- A sample service's tables, for the kit's own tests.
CREATE TABLE placed (
  order_id uuid PRIMARY KEY,
  placed_by text NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per event handled: a copy handled twice would show as two rows.
CREATE TABLE handled (
  event_id text NOT NULL,
  order_id uuid NOT NULL
);
