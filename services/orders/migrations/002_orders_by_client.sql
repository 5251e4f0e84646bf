-- GET /orders lists a caller's most recent orders.
CREATE INDEX orders_by_client ON orders (client_id, placed_at DESC);
