import { describe, expect, it } from 'vitest';
import { StackError } from './errors.ts';
import { resolveOptions } from './options.ts';

describe('resolveOptions', () => {
  it('reports every invalid option at once', () => {
    let caught: unknown;
    try {
      resolveOptions({ brokers: 9, kafkaHeap: 'lots', ports: { kafka: 70_000 } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StackError);
    const error = caught as StackError;
    expect(error.code).toBe('invalid-options');
    expect(error.message).toContain('brokers');
    expect(error.message).toContain('kafkaHeap');
    expect(error.message).toContain('ports.kafka');
  });

  it('defaults to a 512m heap and the directories from the environment, leaving the layout to the state directory', () => {
    const options = resolveOptions({ env: { JUNCTION_STATE_DIR: '/tmp/somewhere', JUNCTION_CACHE_DIR: '/tmp/cache' } });
    expect(options.stateDir).toBe('/tmp/somewhere');
    expect(options.cacheDir).toBe('/tmp/cache');
    expect(options.registry).toBeUndefined();
    expect(options.brokers).toBeUndefined();
    expect(options.kafkaHeap).toBe('512m');
  });
});
