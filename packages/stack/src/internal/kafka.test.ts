import { describe, expect, it } from 'vitest';
import { kafkaProperties, newClusterId } from './kafka.ts';
import type { KafkaNodeRecord } from './state.ts';

const node = (id: number): KafkaNodeRecord => ({
  kind: 'kafka',
  name: `kafka-${id}`,
  nodeId: id,
  port: 9090 + 2 * id,
  controllerPort: 9091 + 2 * id,
  dir: `/state/kafka-${id}`,
  logFile: `/state/kafka-${id}/kafka.log`,
  marker: `-Djunction.component=/state/kafka-${id}`,
  version: '4.3.1',
});

const parse = (text: string): Map<string, string> =>
  new Map(
    text
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as [string, string];
      }),
  );

describe('kafkaProperties', () => {
  it('makes a single node its own voter with replication factor 1', () => {
    const props = parse(kafkaProperties(node(1), [node(1)], {}));
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(props.get('default.replication.factor')).toBe('1');
    expect(props.get('min.insync.replicas')).toBe('1');
  });

  it('gives three nodes one voter set, replication factor 3 and min.insync.replicas 2', () => {
    const cluster = [node(1), node(2), node(3)];
    const props = parse(kafkaProperties(node(2), cluster, {}));
    expect(props.get('node.id')).toBe('2');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:9094');
    for (const key of ['default.replication.factor', 'offsets.topic.replication.factor', 'transaction.state.log.replication.factor']) {
      expect(props.get(key)).toBe('3');
    }
    expect(props.get('min.insync.replicas')).toBe('2');
    expect(props.get('transaction.state.log.min.isr')).toBe('2');
    expect(props.get('unclean.leader.election.enable')).toBe('false');
  });

  it('lets overrides win', () => {
    const props = parse(kafkaProperties(node(1), [node(1)], { 'num.partitions': '6', 'min.insync.replicas': '1' }));
    expect(props.get('num.partitions')).toBe('6');
  });
});

describe('newClusterId', () => {
  it('is 22 characters of URL-safe base64', () => {
    expect(newClusterId()).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
  });

  it('never starts with a dash or an underscore, which the storage tool would read as an option', () => {
    // 0xf8 encodes as "-" and 0xfc as "_" in the first base64 character.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0xfc), Buffer.alloc(16, 0x41)];
    expect(newClusterId(() => draws.shift() ?? Buffer.alloc(16))).toBe(Buffer.alloc(16, 0x41).toString('base64url'));
    expect(draws).toEqual([]);
  });
});
