/** Where a progress bar writes: stderr, or a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** What is counted, e.g. `replaying`. */
  label: string;
  total: number;
  stream: ProgressStream;
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
  /** Without a terminal, a line at most this often. Default 3000 ms. */
  lineEveryMs?: number;
}

/** A progress bar that redraws itself in place on a terminal and prints a line now and then elsewhere (logs, CI). */
export interface ProgressBar {
  /** Sets how many are done. */
  update(done: number): void;
  /** Draws the last state and ends the line. */
  finish(): void;
}

const BAR_WIDTH = 24;
/** Terminal redraws at most this often: the eye needs no more, and a slow terminal is not flooded. */
const REDRAW_MS = 100;

/** One progress line: `label [=====>    ] done/total  pct  rate/s`. */
export function renderProgress(label: string, done: number, total: number, elapsedMs: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar =
    filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}`.padEnd(BAR_WIDTH);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const count = `${done.toLocaleString('en')}/${total.toLocaleString('en')}`;
  return `${label} [${bar}] ${count}  ${Math.floor(fraction * 100)}%  ${rate.toFixed(1)}/s`;
}

/** Creates a {@link ProgressBar} on `stream`. */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const now = options.now ?? Date.now;
  const tty = options.stream.isTTY === true;
  const lineEvery = options.lineEveryMs ?? 3000;
  const started = now();
  let done = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let finished = false;
  const line = () => renderProgress(options.label, done, options.total, now() - started);
  const draw = (force: boolean) => {
    const at = now();
    if (!force && at - drawnAt < (tty ? REDRAW_MS : lineEvery)) return;
    drawnAt = at;
    // \r and erase-to-end-of-line redraw in place; a log gets whole lines.
    options.stream.write(tty ? `\r${line()}\u001b[K` : `${line()}\n`);
  };
  return {
    update(value) {
      done = value;
      if (!finished) draw(false);
    },
    finish() {
      if (finished) return;
      finished = true;
      draw(true);
      if (tty) options.stream.write('\n');
    },
  };
}
