import { describe, expect, it } from 'vitest';
import { judgeRun, type RunSummary } from './summary.ts';

const clean: RunSummary = { reason: 'passed', passed: 3, failed: 0, skipped: 0, brokenFiles: [], unhandledErrors: [], startErrors: [] };
const ending = { code: 0, timedOut: false, filters: [] };

describe('judgeRun', () => {
  it('passes a clean run that exited 0', () => {
    expect(judgeRun(clean, ending)).toEqual({ passed: 3, failed: 0, causes: [] });
  });

  it('fails a run whose vitest exited non-zero though its summary looks clean', () => {
    expect(judgeRun(clean, { ...ending, code: 1 })).toEqual({
      passed: 3,
      failed: 1,
      causes: ['vitest exited 1 though every test passed; its output above says why'],
    });
  });

  it('fails a run that left no summary (vitest stopped before its reporter ran)', () => {
    expect(judgeRun(undefined, { ...ending, code: 1 })).toEqual({
      passed: 0,
      failed: 1,
      causes: ['vitest exited 1 before it reported anything; its output above says why'],
    });
  });

  it('fails a run stopped for its time, and one vitest itself calls interrupted', () => {
    expect(judgeRun(clean, { code: null, timedOut: true, filters: [] }).causes[0]).toBe(
      'stopped: it ran past its time (--timeout-minutes)',
    );
    expect(judgeRun({ ...clean, reason: 'interrupted' }, ending).causes).toEqual(['vitest ended the run as interrupted']);
  });
});
