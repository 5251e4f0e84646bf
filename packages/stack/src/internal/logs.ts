import { open, stat } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/** The last `count` lines of a file, reading backwards from its end; [] when it does not exist. */
export async function tailFile(path: string, count: number): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    let position = size;
    let text = '';
    while (position > 0 && text.split('\n').length <= count + 1) {
      const length = Math.min(CHUNK, position);
      position -= length;
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, position);
      text = buffer.toString('utf8') + text;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onLine` for every line appended to `path` from now on, until `signal` aborts.
 * Polls, because fs.watch is unreliable across filesystems; a truncated file is read anew.
 */
export async function followFile(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  let offset = (await stat(path).catch(() => ({ size: 0 }))).size;
  let partial = '';
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const size = (await stat(path).catch(() => ({ size: 0 }))).size;
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      offset = size;
      const lines = (partial + buffer.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    } finally {
      await handle.close();
    }
  }
}
