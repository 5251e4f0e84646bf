import { randomBytes } from 'node:crypto';
import { createAvroCodec, createTopicsReady, DLQ_HEADERS, frame, headersToStrings, REPLAY_COUNT_HEADER, uuidv7 } from '@junction/events';
import { isPortFree, stackFromEnv } from '@junction/stack';
import { type IHeaders, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';

const PROBE_SCHEMA = {
  type: 'record',
  name: 'DlqProbe',
  namespace: 'com.junction.test',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'quantity', type: 'int' },
  ],
};

/** One record as the dead-letter middleware writes it: the original key, value and headers, plus the DLQ headers. */
interface Written {
  key: string;
  value: Buffer;
  code: string;
  lastFailure: string;
  replayCount?: number;
}

/** A port nothing listens on (below the ephemeral range, like the other CLI tests). */
async function freePort(): Promise<number> {
  for (let port = 21_000 + Math.floor(Math.random() * 4000); ; port += 1) if (await isPortFree(port)) return port;
}

describe('junction dlq --help', () => {
  it.each(['list', 'show', 'replay'])('%s --help says what it does', async (sub) => {
    const result = await runCli(['dlq', sub, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: junction dlq ${sub} [options]`);
    expect(result.stdout).toContain('--brokers <list>');
  });

  it('replay --help says that nothing is deleted and why a replay is safe', async () => {
    const result = await runCli(['dlq', 'replay', '--help']);
    expect(result.stdout).toContain('append-only');
    expect(result.stdout).toContain('deduplicate on ce_id');
  });
});

describe('junction dlq (real stack)', () => {
  const { brokers, schemaRegistryUrl } = stackFromEnv();
  const suffix = randomBytes(4).toString('hex');
  const original = `orders.order.t${suffix}`;
  const group = `demo-${suffix}`;
  const dlq = `${group}.${original}.dlq`;
  const redirected = `${original}.fixed`;
  const paced = `${original}.paced`;
  const subject = `${original}-com.junction.test.DlqProbe`;
  const flags = ['--brokers', brokers.join(',')];
  const kafka = new Kafka({ clientId: 'dlq-cli-test', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const codec = createAvroCodec({ registryUrl: schemaRegistryUrl });
  /** Each written record's original (non-DLQ) headers, by key. */
  const originalHeaders = new Map<string, Record<string, string>>();
  const written: Written[] = [];

  const headersOf = (record: Written, index: number): IHeaders => {
    const kept: Record<string, string> = {
      ce_specversion: '1.0',
      ce_id: uuidv7(),
      ce_source: '/junction/orders',
      ce_type: 'com.junction.test.DlqProbe.v1',
      ce_time: '2025-12-31T23:00:00.000Z',
      ce_subject: record.key,
      'content-type': 'application/avro',
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      ...(record.replayCount === undefined ? {} : { [REPLAY_COUNT_HEADER]: String(record.replayCount) }),
    };
    originalHeaders.set(record.key, kept);
    return {
      ...kept,
      [DLQ_HEADERS.originalTopic]: original,
      [DLQ_HEADERS.originalPartition]: String(index % 3),
      [DLQ_HEADERS.originalOffset]: String(100 + index),
      [DLQ_HEADERS.originalTimestamp]: '2025-12-31T23:00:00.000Z',
      [DLQ_HEADERS.group]: group,
      [DLQ_HEADERS.errorCode]: record.code,
      [DLQ_HEADERS.errorMessage]: `${record.code} on ${record.key}`,
      [DLQ_HEADERS.errorStack]: `JunctionError: ${record.code} on ${record.key}\n    at handler (orders.ts:12:3)`,
      [DLQ_HEADERS.attempts]: '3',
      [DLQ_HEADERS.firstFailure]: '2025-12-31T23:30:00.000Z',
      [DLQ_HEADERS.lastFailure]: record.lastFailure,
      [DLQ_HEADERS.fingerprint]: randomBytes(8).toString('hex'),
    };
  };

  /** Every record of `topic`, read from the start until `expected` arrived (and a moment longer, to catch extras). */
  async function readTopic(
    topic: string,
    expected: number,
  ): Promise<Array<{ key: string; value: Buffer; headers: Record<string, string> }>> {
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
    expect(total).toBe(expected);
    if (!total) return [];
    const groupId = `dlq-cli-test-${randomBytes(4).toString('hex')}`;
    const consumer = kafka.consumer({ groupId });
    const records: Array<{ key: string; value: Buffer; headers: Record<string, string> }> = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          records.push({
            key: message.key?.toString() ?? '',
            value: message.value ?? Buffer.alloc(0),
            headers: headersToStrings(message.headers as Record<string, unknown>),
          });
          if (records.length >= total) resolve();
        },
      });
    });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => {});
    return records.sort((a, b) => a.key.localeCompare(b.key));
  }

  beforeAll(async () => {
    await admin.connect();
    // The records carry failure times months old (their timestamps), which the broker's time-based
    // retention (7 days by default) may delete at its next check: these topics keep everything.
    const keep = [{ name: 'retention.ms', value: '-1' }];
    await createTopicsReady(admin, [
      { topic: original, numPartitions: 3, configEntries: keep },
      { topic: redirected, numPartitions: 1, configEntries: keep },
      { topic: paced, numPartitions: 1, configEntries: keep },
      { topic: dlq, numPartitions: 2, configEntries: keep },
    ]);
    const id = await codec.register(subject, PROBE_SCHEMA);
    const event = (name: string, quantity: number) => codec.encode(id, { name, quantity });
    written.push(
      { key: 'k1', value: await event('lamp', 1), code: 'handler.failed', lastFailure: '2026-01-01T10:00:00.000Z' },
      { key: 'k2', value: await event('bulb', 2), code: 'handler.failed', lastFailure: '2026-01-01T12:00:00.000Z' },
      { key: 'k3', value: await event('desk', 3), code: 'handler.failed', lastFailure: '2026-01-01T11:00:00.000Z', replayCount: 3 },
      { key: 'k4', value: Buffer.from('not avro at all'), code: 'event.undecodable', lastFailure: '2026-01-02T00:00:00.000Z' },
      { key: 'k5', value: frame(2_000_000_000, Buffer.from([2, 4])), code: 'schema.unknown', lastFailure: '2026-01-03T00:00:00.000Z' },
      { key: 'k6', value: await event('shelf', 6), code: 'timeout', lastFailure: '2026-01-04T00:00:00.000Z', replayCount: 1 },
    );
    for (let i = 0; i < 6; i += 1) {
      written.push({ key: `r${i}`, value: await event(`paced ${i}`, i), code: 'internal', lastFailure: '2026-01-05T00:00:00.000Z' });
    }
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: written.map((record, index) => ({
        key: record.key,
        value: record.value,
        headers: headersOf(record, index),
        timestamp: String(Date.parse(record.lastFailure)),
      })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [original, redirected, paced, dlq] }).catch(() => {});
    await admin.disconnect();
    const url = `${schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
    await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => {});
  });

  it('list shows the group, original topic, and per error code the count, oldest and newest failure', async () => {
    const result = await runCli(['dlq', 'list', '--group', group, ...flags]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DLQ TOPIC\s+GROUP\s+FROM TOPIC\s+RECORDS\s+ERROR CODE\s+COUNT\s+OLDEST\s+NEWEST$/);
    const escaped = (text: string) => text.replace(/\./g, '\\.');
    expect(lines[1]).toMatch(
      new RegExp(
        `^${escaped(dlq)}\\s+${group}\\s+${escaped(original)}\\s+12\\s+internal\\s+6\\s+2026-01-05T00:00:00Z\\s+2026-01-05T00:00:00Z$`,
      ),
    );
    expect(lines[2]).toMatch(/^\s+handler\.failed\s+3\s+2026-01-01T10:00:00Z\s+2026-01-01T12:00:00Z$/);
    expect(lines.slice(3)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\s+event\.undecodable\s+1\s+2026-01-02T00:00:00Z\s+2026-01-02T00:00:00Z$/),
        expect.stringMatching(/^\s+schema\.unknown\s+1\s+2026-01-03T00:00:00Z\s+2026-01-03T00:00:00Z$/),
        expect.stringMatching(/^\s+timeout\s+1\s+2026-01-04T00:00:00Z\s+2026-01-04T00:00:00Z$/),
      ]),
    );
    expect(lines).toHaveLength(6);
  });

  it('list reads at most --limit records per topic, and says so', async () => {
    const result = await runCli(['dlq', 'list', '--group', group, '--limit', '5', ...flags]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\s5 of 12\s/);
    expect(result.stdout).toContain(`note: ${dlq}: read the first 5 of 12 records (--limit 5)`);
  });

  it('show decodes the events and shows bad bytes and unknown schema ids as undecodable, with the reason', async () => {
    const result = await runCli(['dlq', 'show', dlq, '--limit', '100', '--registry', schemaRegistryUrl, ...flags]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const block = (key: string) => result.stdout.split('\n\n').find((b) => b.includes(`  key ${key}\n`)) ?? '';
    expect(block('k1')).toContain('error       handler.failed: handler.failed on k1');
    expect(block('k1')).toContain(`original    ${original}/`);
    expect(block('k1')).toContain('last 2026-01-01T10:00:00Z');
    expect(block('k1')).toContain('"name": "lamp"');
    expect(block('k1')).toContain('ce_type: com.junction.test.DlqProbe.v1');
    expect(block('k4')).toContain('UNDECODABLE (event.undecodable: record is not in Confluent framing');
    expect(block('k4')).toContain(`hex         ${Buffer.from('not avro at all').toString('hex')} (15 bytes)`);
    expect(block('k4')).toContain(`base64      ${Buffer.from('not avro at all').toString('base64')}`);
    expect(block('k5')).toContain('UNDECODABLE (schema.unknown:');
    expect(result.stdout).toContain(`12 record(s) shown of ${dlq}`);
  });

  it('show --json prints one object per line, filtered by --code and --key', async () => {
    const result = await runCli(['dlq', 'show', dlq, '--json', '--code', 'handler.failed', '--registry', schemaRegistryUrl, ...flags]);
    expect(result.code).toBe(0);
    const objects = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(objects.map((o) => o.key).sort()).toEqual(['k1', 'k2', 'k3']);
    const k2 = objects.find((o) => o.key === 'k2');
    expect(k2).toMatchObject({
      topic: dlq,
      value: { name: 'bulb', quantity: 2 },
      failure: { group, errorCode: 'handler.failed', attempts: 3, lastFailure: '2026-01-01T12:00:00.000Z' },
      original: { topic: original },
      replayCount: 0,
      headers: { ce_subject: 'k2' },
    });
    expect(result.stderr).toContain(`3 record(s) shown of ${dlq}`);

    const bad = await runCli(['dlq', 'show', dlq, '--json', '--key', 'k4', '--registry', schemaRegistryUrl, ...flags]);
    const [k4] = bad.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(k4.undecodable).toEqual({
      code: 'event.undecodable',
      reason: expect.stringContaining('Confluent framing'),
      hex: Buffer.from('not avro at all').toString('hex'),
      base64: Buffer.from('not avro at all').toString('base64'),
    });
  });

  it('replay --dry-run lists what it would send and sends nothing', async () => {
    const result = await runCli(['dlq', 'replay', dlq, '--code', 'handler.failed', '--dry-run', ...flags]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^${dlq.replace(/\./g, '\\.')}/\\d@\\d+\\s+k1\\s+handler\\.failed\\s+2026-01-01T10:00:00Z\\s+${original.replace(/\./g, '\\.')}\\s+0 → 1$`,
        'm',
      ),
    );
    expect(result.stdout).toMatch(/^would replay\s+2$/m);
    expect(result.stdout).toMatch(/^refused\s+1$/m);
    expect(result.stdout).toMatch(/^filtered out\s+9$/m);
    expect(result.stdout).toContain('dry run: nothing was sent');
    await readTopic(original, 0);
  });

  it('replay re-produces exactly the matching records with their key, value and original headers, count 1, no DLQ headers', async () => {
    const result = await runCli(['dlq', 'replay', dlq, '--code', 'handler.failed', ...flags]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Replayed 2 record(s) to ${original}`);
    expect(result.stdout).toMatch(
      new RegExp(`^refused: ${dlq.replace(/\./g, '\\.')}/\\d@\\d+ key k3: replayed 3 times already \\(--max-replays 3\\)$`, 'm'),
    );
    expect(result.stdout).toMatch(/^replayed\s+2$/m);
    expect(result.stdout).toMatch(/^refused\s+1$/m);
    expect(result.stdout).toMatch(/^filtered out\s+9$/m);
    expect(result.stderr).toContain('replaying [');
    expect(result.stderr).toContain('2/2  100%');

    const records = await readTopic(original, 2);
    expect(records.map((r) => r.key)).toEqual(['k1', 'k2']);
    for (const record of records) {
      const sent = written.find((w) => w.key === record.key);
      expect(record.value.equals(sent?.value ?? Buffer.alloc(0))).toBe(true);
      expect(record.headers).toEqual({ ...originalHeaders.get(record.key), [REPLAY_COUNT_HEADER]: '1' });
      expect(Object.keys(record.headers).filter((name) => name.startsWith('junction.dlq.'))).toEqual([]);
    }
  });

  it('replay --to sends to another topic, counting on from the record’s own replay count', async () => {
    const result = await runCli(['dlq', 'replay', dlq, '--code', 'timeout', '--to', redirected, ...flags]);
    expect(result.code).toBe(0);
    const [k6] = await readTopic(redirected, 1);
    expect(k6?.key).toBe('k6');
    expect(k6?.headers[REPLAY_COUNT_HEADER]).toBe('2');
    await readTopic(original, 2);
  });

  it('replay refuses every record at --max-replays once it was replayed that often', async () => {
    const result = await runCli(['dlq', 'replay', dlq, '--key', 'k3', '--max-replays', '3', '--dry-run', ...flags]);
    expect(result.stdout).toMatch(/^would replay\s+0$/m);
    expect(result.stdout).toContain('key k3: replayed 3 times already (--max-replays 3)');
    const higher = await runCli(['dlq', 'replay', dlq, '--key', 'k3', '--max-replays', '4', '--dry-run', ...flags]);
    expect(higher.stdout).toMatch(/^would replay\s+1$/m);
  });

  it('replay --rate bounds the speed', async () => {
    const result = await runCli(['dlq', 'replay', dlq, '--code', 'internal', '--to', paced, '--rate', '2', ...flags]);
    expect(result.code).toBe(0);
    // 6 records at 2/s with a burst of 1: at least 2.5 s of sending.
    const seconds = Number(/Replayed 6 record\(s\) to \S+ in ([\d.]+) s/.exec(result.stdout)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(2.4);
    await readTopic(paced, 6);
  });

  it('says what to do when the topic does not exist', async () => {
    const result = await runCli(['dlq', 'show', `${dlq}.missing`, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `junction: error: there is no topic ${dlq}.missing → ./junction dlq list shows the dead-letter topics`,
    );
  });

  it('show fails with one line when the registry does not answer', async () => {
    const url = `http://127.0.0.1:${await freePort()}/apis/ccompat/v7`;
    const result = await runCli(['dlq', 'show', dlq, '--key', 'k1', '--registry', url, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `junction: error: the schema registry at ${url} does not answer → start the local stack with ./junction up, or point --registry at a running one`,
    ]);
  });

  it('fails with one line when Kafka does not answer', async () => {
    const port = await freePort();
    for (const args of [['list'], ['show', dlq], ['replay', dlq]]) {
      const result = await runCli(['dlq', ...args, '--brokers', `127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        `junction: error: Kafka at 127.0.0.1:${port} does not answer → start the local stack with ./junction up (or ./junction stack up), or point --brokers at a running one`,
      ]);
    }
  });
});
