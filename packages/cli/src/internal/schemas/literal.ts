/**
 * Prints plain data as a TypeScript literal in the layout Biome (with the repository's
 * biome.json) would give it, so that generated files pass `biome check` untouched: objects one
 * property per line (Biome keeps an object expanded when it is written expanded), arrays of
 * primitives on one line when they fit, strings in single quotes unless double quotes need
 * fewer escapes, keys quoted only where they must be.
 */

const LINE_WIDTH = 140;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A string literal the way Biome quotes it: single quotes, double ones when they need fewer escapes. */
export function quote(text: string): string {
  const singles = (text.match(/'/g) ?? []).length;
  const doubles = (text.match(/"/g) ?? []).length;
  const mark = singles > doubles ? '"' : "'";
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(new RegExp(mark, 'g'), `\\${mark}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `${mark}${escaped}${mark}`;
}

/** An object key: bare when it is an identifier, quoted otherwise. */
export function key(name: string): string {
  return IDENTIFIER.test(name) ? name : quote(name);
}

const isPrimitive = (value: unknown): boolean => value === null || ['string', 'number', 'boolean'].includes(typeof value);

function primitive(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null) return 'null';
  return String(value);
}

/**
 * `value` as a literal whose first line starts at column `indent` after `prefix` (e.g. `key: `)
 * and whose last line is followed by `suffix` (e.g. `,`); nested lines are indented by two spaces.
 */
export function literal(value: unknown, indent = 0, prefix = '', suffix = ''): string {
  const pad = ' '.repeat(indent);
  if (isPrimitive(value)) return `${pad}${prefix}${primitive(value)}${suffix}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}${prefix}[]${suffix}`;
    if (value.every(isPrimitive)) {
      const flat = `${pad}${prefix}[${value.map(primitive).join(', ')}]${suffix}`;
      if (flat.length <= LINE_WIDTH) return flat;
    }
    const items = value.map((item) => literal(item, indent + 2, '', ','));
    return `${pad}${prefix}[\n${items.join('\n')}\n${pad}]${suffix}`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return `${pad}${prefix}{}${suffix}`;
    const lines = entries.map(([name, v]) => literal(v, indent + 2, `${key(name)}: `, ','));
    return `${pad}${prefix}{\n${lines.join('\n')}\n${pad}}${suffix}`;
  }
  throw new Error(`cannot print ${typeof value} as a literal`);
}
