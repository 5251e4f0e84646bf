import type { KafkaPort } from '@junction/events';
import { createAvroCodec } from '@junction/events';
import { Command, InvalidArgumentError } from 'commander';
import type { Admin } from 'kafkajs';
import { integer } from '../internal/args.ts';
import { isoTime, matches, type RecordFilter } from '../internal/dlq/filter.ts';
import { DLQ_SUFFIX, parseDlqTopic } from '../internal/dlq/names.ts';
import { createProgressBar } from '../internal/dlq/progress.ts';
import { type ScanResult, scanTopic } from '../internal/dlq/read.ts';
import { byPosition, coordinates, type DlqRecord, errorCode, failedAt, isoSeconds, keyText } from '../internal/dlq/record.ts';
import { sendReplays } from '../internal/dlq/replay.ts';
import { planReplay, type ReplayPlan } from '../internal/dlq/replay-plan.ts';
import { decodeRecord, renderJson, renderText, type ShownRecord } from '../internal/dlq/show.ts';
import { DlqSummary } from '../internal/dlq/summary.ts';
import { cliConnection, cliKafka, connectAdmin, requireTopic } from '../internal/kafka.ts';
import { style, table } from '../internal/output.ts';
import { DEFAULT_BROKERS, DEFAULT_REGISTRY_URL } from './schemas.ts';

const LIST_HINT = './junction dlq list shows the dead-letter topics';

interface ConnectionFlags {
  brokers?: string;
  registry?: string;
  timeout: number;
}

const brokerList = (flag?: string): string[] =>
  (flag ?? process.env.JUNCTION_KAFKA_BROKERS ?? DEFAULT_BROKERS)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);

/** Connects, runs `work` with the client and an admin, and disconnects. */
async function withKafka<T>(flags: ConnectionFlags, work: (kafka: KafkaPort, admin: Admin) => Promise<T>): Promise<T> {
  const brokers = brokerList(flags.brokers);
  const kafka = cliKafka(await cliConnection(brokers));
  const admin = await connectAdmin(kafka, brokers);
  try {
    return await work(kafka, admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** A note on a scan that did not read to the end, or undefined when it did. */
function partial(topic: string, result: ScanResult, flags: { limit?: number; timeout: number }): string | undefined {
  if (result.stopped === 'limit')
    return `${topic}: read the first ${result.scanned.toLocaleString('en')} of ${result.available.toLocaleString('en')} records (--limit ${flags.limit}); counts and times cover those only`;
  if (result.stopped === 'timeout')
    return `${topic}: stopped reading after ${flags.timeout} s, at ${result.scanned.toLocaleString('en')} of ${result.available.toLocaleString('en')} records (raise --timeout)`;
  return undefined;
}

async function list(flags: ConnectionFlags & { group?: string; limit: number }): Promise<void> {
  await withKafka(flags, async (kafka, admin) => {
    const all = await admin.listTopics();
    const known = new Set(all);
    const topics = all.filter((name) => parseDlqTopic(name) && (flags.group === undefined || name.startsWith(`${flags.group}.`))).sort();
    if (!topics.length) {
      console.log(`No dead-letter topics (<group>.<topic>${DLQ_SUFFIX})${flags.group ? ` of group ${flags.group}` : ''}.`);
      return;
    }
    const rows: string[][] = [];
    const notes: string[] = [];
    for (const topic of topics) {
      const summary = new DlqSummary();
      const result = await scanTopic(kafka, admin, { topic, limit: flags.limit, timeoutMs: flags.timeout * 1000 }, (record) => {
        summary.add(record);
        return true;
      });
      // The headers name group and topic exactly; the name alone is ambiguous when either has dots.
      const fromHeaders = summary.group && summary.originalTopic ? { group: summary.group, topic: summary.originalTopic } : undefined;
      const origin =
        fromHeaders && `${fromHeaders.group}.${fromHeaders.topic}${DLQ_SUFFIX}` === topic ? fromHeaders : parseDlqTopic(topic, known);
      const records = result.stopped === 'end' ? String(summary.count) : `${summary.count} of ${result.available}`;
      const head = [topic, origin?.group ?? '?', origin?.topic ?? '?', records];
      const codes = summary.codes();
      if (!codes.length) rows.push([...head, '-', '0', '', '']);
      for (const [i, c] of codes.entries()) {
        rows.push([...(i === 0 ? head : head.map(() => '')), c.code, String(c.count), isoSeconds(c.oldest), isoSeconds(c.newest)]);
      }
      const note = partial(topic, result, flags);
      if (note) notes.push(note);
    }
    console.log(table(['DLQ TOPIC', 'GROUP', 'FROM TOPIC', 'RECORDS', 'ERROR CODE', 'COUNT', 'OLDEST', 'NEWEST'], rows));
    for (const note of notes) console.log(`${style('yellow', 'note:')} ${note}`);
  });
}

interface FilterFlags {
  code?: string;
  key?: string;
  since?: number;
  until?: number;
}
const filterOf = (flags: FilterFlags): RecordFilter => ({ code: flags.code, key: flags.key, since: flags.since, until: flags.until });

async function show(
  topic: string,
  flags: ConnectionFlags & FilterFlags & { limit: number; offset?: bigint; partition?: number; json?: boolean },
): Promise<void> {
  const registryUrl = flags.registry ?? process.env.JUNCTION_SCHEMA_REGISTRY_URL ?? DEFAULT_REGISTRY_URL;
  const codec = createAvroCodec({ registryUrl, retries: 1, timeoutMs: 5000 });
  const filter = filterOf(flags);
  const registryAway = () =>
    new Error(
      `the schema registry at ${registryUrl} does not answer → start the local stack with ./junction up, or point --registry at a running one`,
    );
  // Asked first, so the answer does not depend on whether any record needs decoding.
  await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(5000) }).catch((error: unknown) => {
    throw Object.assign(registryAway(), { cause: error });
  });
  await withKafka(flags, async (kafka, admin) => {
    await requireTopic(admin, topic, LIST_HINT);
    const found: DlqRecord[] = [];
    const scan = { topic, limit: flags.limit, offset: flags.offset, partition: flags.partition, timeoutMs: flags.timeout * 1000 };
    const result = await scanTopic(kafka, admin, scan, (record) => {
      if (!matches(record, filter)) return false;
      found.push(record);
      return true;
    });
    const out = (line: string) => (flags.json ? process.stderr.write(`${line}\n`) : console.log(line));
    for (const record of found.sort(byPosition)) {
      let shown: ShownRecord;
      try {
        shown = await decodeRecord(codec, record);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'registry.unavailable') throw error;
        throw Object.assign(registryAway(), { cause: error });
      }
      console.log(flags.json ? renderJson(shown) : `${renderText(shown)}\n`);
    }
    const scanned = `${result.scanned} scanned`;
    const ending =
      result.stopped === 'limit'
        ? `; stopped at --limit ${flags.limit}`
        : result.stopped === 'timeout'
          ? `; stopped after ${flags.timeout} s (raise --timeout)`
          : '';
    out(style('dim', `${found.length} record(s) shown of ${topic} (${scanned}${ending})`));
  });
}

async function replay(
  topic: string,
  flags: ConnectionFlags & FilterFlags & { to?: string; rate?: number; dryRun?: boolean; maxReplays: number },
): Promise<void> {
  const filter = filterOf(flags);
  await withKafka(flags, async (kafka, admin) => {
    await requireTopic(admin, topic, LIST_HINT);
    const kept: DlqRecord[] = [];
    const result = await scanTopic(kafka, admin, { topic, timeoutMs: flags.timeout * 1000 }, (record) => {
      if (matches(record, filter)) kept.push(record);
      return true;
    });
    if (result.stopped !== 'end') {
      throw new Error(
        `read only ${result.scanned} of ${result.available} records of ${topic} within ${flags.timeout} s, so nothing was sent → raise --timeout`,
      );
    }
    const plan: ReplayPlan = planReplay(kept.sort(byPosition), { filter, to: flags.to, maxReplays: flags.maxReplays });
    plan.filteredOut += result.scanned - kept.length;
    const targets = [...new Set(plan.send.map((s) => s.topic))];
    for (const target of targets) await requireTopic(admin, target, 'create it, or send the records elsewhere with --to <topic>');

    if (flags.dryRun) {
      console.log(
        table(
          ['RECORD', 'KEY', 'ERROR CODE', 'FAILED AT', 'TO', 'REPLAY COUNT'],
          plan.send.map((s) => [
            coordinates(s.record),
            keyText(s.record) ?? '(none)',
            errorCode(s.record),
            isoSeconds(failedAt(s.record)),
            s.topic,
            `${s.count - 1} → ${s.count}`,
          ]),
        ),
      );
    } else if (plan.send.length) {
      const bar = createProgressBar({ label: 'replaying', total: plan.send.length, stream: process.stderr });
      bar.update(0);
      const { elapsedMs } = await sendReplays(kafka, plan.send, { ratePerSecond: flags.rate, onProgress: (done) => bar.update(done) });
      bar.finish();
      const rate = elapsedMs > 0 ? ((plan.send.length * 1000) / elapsedMs).toFixed(1) : '-';
      console.log(`Replayed ${plan.send.length} record(s) to ${targets.join(', ')} in ${(elapsedMs / 1000).toFixed(2)} s (${rate}/s).`);
    }
    for (const refusal of plan.refused) {
      console.log(
        `${style('yellow', 'refused:')} ${coordinates(refusal.record)} key ${keyText(refusal.record) ?? '(none)'}: ${refusal.reason}`,
      );
    }
    console.log(
      `\n${table(
        ['RESULT', 'RECORDS'],
        [
          [flags.dryRun ? 'would replay' : 'replayed', String(plan.send.length)],
          ['refused', String(plan.refused.length)],
          ['filtered out', String(plan.filteredOut)],
        ],
      )}`,
    );
    if (flags.dryRun) console.log(style('dim', 'dry run: nothing was sent'));
  });
}

const offsetNumber = (value: string): bigint => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected an offset (a whole number from 0), got "${value}"`);
  return BigInt(value);
};
const rateNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1_000_000)
    throw new InvalidArgumentError(`expected events per second above 0, up to 1000000, got "${value}"`);
  return n;
};

const withConnection = (command: Command, timeout: number): Command =>
  command
    .option('--brokers <list>', `Kafka bootstrap servers (default: $JUNCTION_KAFKA_BROKERS or ${DEFAULT_BROKERS})`)
    .option('--timeout <seconds>', 'stop reading a topic after this long', integer(1, 86_400), timeout);

const withFilters = (command: Command): Command =>
  command
    .option('--code <code>', 'only records with this junction.dlq.error-code, e.g. event.invalid')
    .option('--key <key>', 'only records with this key')
    .option(
      '--since <time>',
      'only records that last failed at or after this ISO 8601 time (junction.dlq.last-failure, else the record time)',
      isoTime,
    )
    .option('--until <time>', 'only records that last failed before this ISO 8601 time', isoTime);

/** `junction dlq …`: look into dead-letter topics and replay what they hold. */
export function dlqCommand(): Command {
  const dlq = new Command('dlq').description(
    `inspect and replay dead-letter topics (<group>.<topic>${DLQ_SUFFIX}), where subscribers put the records they gave up on`,
  );

  withConnection(dlq.command('list'), 30)
    .description('list the dead-letter topics with their group, original topic, and per error code the count, oldest and newest failure')
    .option('--group <group>', 'only the dead-letter topics of this consumer group')
    .option('--limit <n>', 'read at most this many records of each topic', integer(1, 10_000_000), 10_000)
    .action(list);

  withFilters(withConnection(dlq.command('show'), 30))
    .description('show the records of a dead-letter topic: why each failed, where it came from, and its event decoded through the registry')
    .argument('<dlq-topic>', `the dead-letter topic, e.g. billing.orders.order${DLQ_SUFFIX}`)
    .option('--limit <n>', 'show at most this many records', integer(1, 1_000_000), 20)
    .option('--offset <offset>', 'start each partition at this offset', offsetNumber)
    .option('--partition <n>', 'only this partition', integer(0, 1_000_000))
    .option('--json', 'one JSON object per line (the summary goes to stderr)')
    .option(
      '--registry <url>',
      `the registry's Confluent-compatible API (default: $JUNCTION_SCHEMA_REGISTRY_URL or ${DEFAULT_REGISTRY_URL})`,
    )
    .action(show);

  withFilters(withConnection(dlq.command('replay'), 60))
    .description(
      'send matching records of a dead-letter topic again to the topic they came from, with their original key, value and headers',
    )
    .argument('<dlq-topic>', `the dead-letter topic, e.g. billing.orders.order${DLQ_SUFFIX}`)
    .option('--to <topic>', 'send to this topic instead of each record’s junction.dlq.original-topic')
    .option('--rate <events/s>', 'send at most this many records per second (default: as fast as Kafka takes them)', rateNumber)
    .option('--max-replays <n>', 'refuse records replayed this often already (junction.replay.count): the loop guard', integer(0, 1000), 3)
    .option('--dry-run', 'list what would be replayed and send nothing')
    .addHelpText(
      'after',
      `
Each record goes out with its original key, value and headers: the junction.dlq.*
and junction.retry.* headers are dropped, and junction.replay.count is set to one
more than the record had (none = 0). A record whose count reached --max-replays is
refused and listed, so a record that keeps failing cannot circle for ever between
its topic and the dead-letter topic.

Replay is safe to repeat: subscribers deduplicate on ce_id, so an event they
already handled is not handled twice. It writes with an idempotent producer and
acks=all.

Replay deletes nothing from the dead-letter topic: Kafka topics are append-only,
so the records stay until retention removes them, and replay records nothing else
about them. Narrow a later replay with --code, --key, --since and --until.`,
    )
    .action(replay);

  return dlq;
}
