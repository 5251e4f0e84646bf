import { describe, expect, it } from 'vitest';
import { table } from './output.ts';

describe('table', () => {
  it('aligns columns under their headers', () => {
    const text = table(
      ['COMPONENT', 'PID', 'HEALTH'],
      [
        ['kafka-1', '123', 'ok'],
        ['registry', '45678', 'failing: no answer'],
      ],
    );
    expect(text.split('\n')).toEqual(['COMPONENT  PID    HEALTH', 'kafka-1    123    ok', 'registry   45678  failing: no answer']);
  });
});
