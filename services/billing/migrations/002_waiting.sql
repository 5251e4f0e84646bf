-- Reservations that reached billing before their order's OrderPlaced (another topic, so no order
-- between them): kept here, and charged when the OrderPlaced arrives.
CREATE TABLE waiting_reservations (
  order_id uuid PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now()
);
