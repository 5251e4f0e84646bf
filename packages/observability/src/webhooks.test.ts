import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { webhookMetrics } from './webhooks.ts';

describe('the webhook metrics', () => {
  it('count attempts by outcome from 0, time them, and read endpoints and backlogs when scraped', async () => {
    const metrics = createMetrics({ service: 'notifications', processMetrics: false });
    let reads = 0;
    const recorded = webhookMetrics(metrics, async () => {
      reads += 1;
      return {
        endpoints: { active: 3, disabled_by_failures: 1 },
        backlog: [{ subscriptionId: '0190c7a0-0000-7000-8000-000000000001', pending: 42, oldestSeconds: 93.5 }],
      };
    });
    expect(webhookMetrics(metrics, async () => ({ endpoints: {}, backlog: [] }))).toBe(recorded);
    recorded.attempt('delivered', 120);
    recorded.attempt('retried', 5000);
    const text = await metrics.scrape();
    metrics.close();
    expect(text).toContain('junction_webhook_attempts_total{outcome="delivered",service="notifications"} 1');
    expect(text).toContain('junction_webhook_attempts_total{outcome="retried",service="notifications"} 1');
    expect(text).toContain('junction_webhook_attempts_total{outcome="abandoned",service="notifications"} 0');
    expect(text).toContain('junction_webhook_attempt_duration_seconds_sum{service="notifications",outcome="retried"} 5');
    expect(text).toContain('junction_webhook_endpoints{state="active",service="notifications"} 3');
    expect(text).toContain('junction_webhook_endpoints{state="failing",service="notifications"} 0');
    expect(text).toContain('junction_webhook_endpoints{state="disabled_by_failures",service="notifications"} 1');
    expect(text).toContain('junction_webhook_backlog{subscription_id="0190c7a0-0000-7000-8000-000000000001",service="notifications"} 42');
    expect(text).toContain(
      'junction_webhook_oldest_pending_seconds{subscription_id="0190c7a0-0000-7000-8000-000000000001",service="notifications"} 93.5',
    );
    // One read served the three gauges of the scrape.
    expect(reads).toBe(1);
  });

  it('refuses an outcome outside the closed set', () => {
    const metrics = createMetrics({ service: 'notifications', processMetrics: false });
    const recorded = webhookMetrics(metrics, async () => ({ endpoints: {}, backlog: [] }));
    expect(() => recorded.attempt('lost' as 'delivered', 1)).toThrow(/not a webhook attempt outcome/);
    metrics.close();
  });
});
