import { DLQ_HEADERS, REPLAY_COUNT_HEADER } from '@junction/events';
import type { IHeaders } from 'kafkajs';
import { matches, type RecordFilter } from './filter.ts';
import { type DlqRecord, replayCount } from './record.ts';

/** How `replay` treats the records it reads. */
export interface ReplayOptions {
  filter: RecordFilter;
  /** Send here instead of `junction.dlq.original-topic`. */
  to?: string;
  /** A record replayed this often already is refused: the loop guard. */
  maxReplays: number;
}

/** A record to send again: where, and with which headers. */
export interface ReplaySend {
  record: DlqRecord;
  topic: string;
  headers: IHeaders;
  /** The `junction.replay.count` it goes out with. */
  count: number;
}

/** What `replay` will do with each record it read. */
export interface ReplayPlan {
  send: ReplaySend[];
  refused: Array<{ record: DlqRecord; reason: string }>;
  filteredOut: number;
}

/**
 * The prefixes of DLQ_HEADERS and RETRY_HEADERS: they tell of the failure and of earlier deliveries,
 * not of the event, and a replay is a fresh first delivery (the dead-letter middleware drops the same).
 */
const DROPPED_PREFIXES = ['junction.dlq.', 'junction.retry.'];

/** The record's original headers (every `junction.dlq.*` and `junction.retry.*` removed) with `junction.replay.count` = `count`. */
export function replayHeaders(record: DlqRecord, count: number): IHeaders {
  const kept: IHeaders = {};
  for (const [name, value] of Object.entries(record.rawHeaders)) {
    if (name === REPLAY_COUNT_HEADER || DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    kept[name] = value;
  }
  kept[REPLAY_COUNT_HEADER] = String(count);
  return kept;
}

/** Sorts records into sent, refused (loop guard, nowhere to send) and filtered out. */
export function planReplay(records: Iterable<DlqRecord>, options: ReplayOptions): ReplayPlan {
  const plan: ReplayPlan = { send: [], refused: [], filteredOut: 0 };
  for (const record of records) {
    if (!matches(record, options.filter)) {
      plan.filteredOut += 1;
      continue;
    }
    const count = replayCount(record);
    const topic = options.to ?? record.headers[DLQ_HEADERS.originalTopic];
    if (count >= options.maxReplays) {
      plan.refused.push({ record, reason: `replayed ${count} times already (--max-replays ${options.maxReplays})` });
    } else if (!topic) {
      plan.refused.push({ record, reason: `no ${DLQ_HEADERS.originalTopic} header (name the topic with --to)` });
    } else {
      plan.send.push({ record, topic, headers: replayHeaders(record, count + 1), count: count + 1 });
    }
  }
  return plan;
}
