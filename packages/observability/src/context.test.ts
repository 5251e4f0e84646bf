import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from './context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('reads the trace id, span id and sampled flag of a valid traceparent, marked remote', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(0);
    // Flags other than sampled are not carried.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.traceFlags).toBe(1);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-fe`)?.traceFlags).toBe(0);
  });

  it('round-trips with formatTraceparent', () => {
    const span = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(span && formatTraceparent(span)).toBe(`00-${TRACE}-${SPAN}-01`);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['another version', `01-${TRACE}-${SPAN}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['a non-hex digit in the trace id', `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ['a non-hex digit in the span id', `00-${TRACE}-${SPAN.slice(0, 15)}x-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0z`],
    ['a non-ASCII character', `00-${TRACE.slice(0, 31)}é-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['a long span id', `00-${TRACE}-${SPAN}0-01`],
    ['a missing dash', `00-${TRACE}${SPAN}-01x`],
    ['a trailing character', `00-${TRACE}-${SPAN}-01-`],
  ])('rejects %s', (_, traceparent) => {
    expect(parseTraceparent(traceparent)).toBeUndefined();
  });
});
