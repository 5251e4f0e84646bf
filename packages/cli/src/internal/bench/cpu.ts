import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: the unit of /proc's CPU times, 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, in ticks. */
  own: number;
  /** cutime + cstime: children that ended and were waited for, in ticks. */
  reaped: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  // After ") ": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), numbered from 1.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const at = (n: number) => Number(fields[n - 3]);
  const values = [at(4), at(14), at(15), at(16), at(17)];
  if (values.some((v) => !Number.isFinite(v))) return undefined;
  return { pid, ppid: at(4), own: at(14) + at(15), reaped: at(16) + at(17) };
}

function readStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat) stats.set(stat.pid, stat);
    } catch {
      // Ended between the listing and the read.
    }
  }
  return stats;
}

/**
 * CPU seconds each named process used so far, with its descendants (PostgreSQL's backends are
 * children of its postmaster), those still running and those that ended. Linux only: elsewhere
 * (no /proc) the map is empty.
 */
export function cpuSeconds(processes: ReadonlyMap<string, number>): Map<string, number> {
  const stats = readStats();
  const children = new Map<number, number[]>();
  for (const stat of stats.values()) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  const tree = (pid: number): number => {
    const stat = stats.get(pid);
    if (!stat) return 0;
    return stat.own + stat.reaped + (children.get(pid) ?? []).reduce((sum, child) => sum + tree(child), 0);
  };
  const result = new Map<string, number>();
  for (const [name, pid] of processes) if (stats.has(pid)) result.set(name, tree(pid) / TICKS_PER_SECOND);
  return result;
}

/** CPU used between two {@link cpuSeconds} snapshots, per process present in both. */
export function cpuBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const used = new Map<string, number>();
  for (const [name, seconds] of after) {
    const start = before.get(name);
    if (start !== undefined) used.set(name, Math.max(0, seconds - start));
  }
  return used;
}
