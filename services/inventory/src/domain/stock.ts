/** A line of an order as inventory reads it. */
export interface WantedLine {
  sku: string;
  quantity: number;
}

/** A SKU an order wants more of than there is. */
export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

/** Lines with one entry per SKU, quantities added: an order may name a SKU twice. */
export function totalsBySku(lines: readonly WantedLine[]): WantedLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * What is short when `wanted` (totals by SKU) is taken from `stock` (available by SKU): every
 * SKU with less available than wanted, an unknown SKU as 0 available. None means it all fits.
 */
export function shortages(wanted: readonly WantedLine[], stock: ReadonlyMap<string, number>): Shortage[] {
  return wanted
    .filter((line) => (stock.get(line.sku) ?? 0) < line.quantity)
    .map((line) => ({ sku: line.sku, requested: line.quantity, available: stock.get(line.sku) ?? 0 }));
}
