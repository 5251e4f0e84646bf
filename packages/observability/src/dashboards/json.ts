/**
 * JSON text the way the repository's formatter (Biome, line width 140) leaves it, so that
 * `biome check .` and `junction dashboards --check` agree on the committed files: objects one key
 * a line, arrays of plain values on one line when they fit.
 */
const WIDTH = 140;

// The formatter counts the comma after a value as part of its line.
const comma = (index: number, length: number): number => (index < length - 1 ? 1 : 0);

const isPlain = (value: unknown): boolean => value === null || typeof value !== 'object';

function render(value: unknown, indent: string, used: number): string {
  if (isPlain(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    if (value.every(isPlain) && used + flat.length <= WIDTH) return flat;
    const items = value.map((v, i) => inner + render(v, inner, inner.length + comma(i, value.length)));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([key, v], i) => {
    const head = `${inner}${JSON.stringify(key)}: `;
    return head + render(v, inner, head.length + comma(i, entries.length));
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** `value` as pretty JSON text with a trailing newline. */
export function toJsonText(value: unknown): string {
  return `${render(value, '', 0)}\n`;
}
