-- The seeded catalogue of the local stack: the README's example order's SKUs and a few more.
INSERT INTO items (sku, name, available) VALUES
  ('BOOK-0001', 'Notes on the Analytical Engine', 500),
  ('PEN-0042', 'Fountain pen, blue', 1000),
  ('SKU-LAMP', 'Desk lamp', 200),
  ('SKU-BULB', 'LED bulb, warm white', 2000),
  ('MUG-0007', 'Junction mug', 300),
  ('RARE-0001', 'Signed first edition', 1)
ON CONFLICT (sku) DO NOTHING;
