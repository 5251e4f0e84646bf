import { stripVTControlCharacters } from 'node:util';
import { StackError } from '@junction/stack';

const useColor = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && !process.env.NO_COLOR;

/** Wraps text in an ANSI style when stdout is a terminal and NO_COLOR is unset. */
export function style(kind: 'bold' | 'dim' | 'green' | 'red' | 'yellow', text: string): string {
  if (!useColor(process.stdout)) return text;
  const codes = { bold: [1, 22], dim: [2, 22], green: [32, 39], red: [31, 39], yellow: [33, 39] } as const;
  const [on, off] = codes[kind];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

const visibleLength = (text: string): number => stripVTControlCharacters(text).length;

/** Renders rows as an aligned table with a header line, for people to read. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [style('bold', line(headers)), ...rows.map(line)].join('\n');
}

/** A progress line on stderr, so stdout stays clean for tables and JSON. */
export function progress(message: string): void {
  process.stderr.write(`${style('dim', '…')} ${message}\n`);
}

/** Prints an error as one line (what went wrong → what to do), then any log lines that explain it. */
export function printError(error: unknown): void {
  const hint = error instanceof StackError ? error.hint : undefined;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${style('red', 'junction: error:')} ${message}${hint ? ` → ${hint}` : ''}\n`);
  if (error instanceof StackError && error.logTail.length > 0) {
    process.stderr.write(`${style('dim', 'last lines of its output:')}\n${error.logTail.map((l) => `  ${l}`).join('\n')}\n`);
  }
  if (!(error instanceof StackError) && process.env.JUNCTION_DEBUG && error instanceof Error) {
    process.stderr.write(`${error.stack ?? ''}\n`);
  }
}
