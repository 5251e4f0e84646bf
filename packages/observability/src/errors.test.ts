import { describe, expect, it } from 'vitest';
import { JunctionError } from './errors.ts';

describe('JunctionError', () => {
  it('is retriable by default only for codes that name a passing condition', () => {
    expect(new JunctionError('registry.unavailable', 'x').retriable).toBe(true);
    expect(new JunctionError('timeout', 'x').retriable).toBe(true);
    expect(new JunctionError('event.invalid', 'x').retriable).toBe(false);
    expect(new JunctionError('event.invalid', 'x', { retriable: true }).retriable).toBe(true);
  });

  it('keeps cause and context', () => {
    const cause = new Error('socket hang up');
    const error = new JunctionError('broker.unavailable', 'Kafka did not answer', { cause, context: { topic: 'orders.order' } });
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ topic: 'orders.order' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('JunctionError');
  });

  it('normalises anything thrown, once', () => {
    const junction = new JunctionError('timeout', 'slow');
    expect(JunctionError.from(junction)).toBe(junction);
    const wrapped = JunctionError.from(new TypeError('undefined is not a function'), 'internal', { where: 'handler' });
    expect(wrapped.code).toBe('internal');
    expect(wrapped.message).toBe('undefined is not a function');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(wrapped.context).toEqual({ where: 'handler' });
    expect(JunctionError.from('a string').message).toBe('a string');
  });
});
