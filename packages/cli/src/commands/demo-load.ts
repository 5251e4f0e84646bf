import { queryPrometheus } from '@junction/stack';
import { Command, InvalidArgumentError } from 'commander';
import { integer } from '../internal/args.ts';
import { type LoadStats, percentile, runOrderLoad } from '../internal/load/order-load.ts';
import { style, table } from '../internal/output.ts';
import { DEFAULT_AUTH_URL, fetchToken } from './token.ts';

interface LoadFlags {
  rate: number;
  duration: number;
  count?: number;
  client: string;
  gatewayUrl: string;
  authUrl?: string;
  stateDir?: string;
  prometheusUrl: string;
}

const rate = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 500) throw new InvalidArgumentError('orders per second, more than 0 and at most 500');
  return n;
};

/** Consumer lag and dead letters of the whole flow, from Prometheus; undefined where it cannot say. */
async function flowHealth(url: string): Promise<{ lag?: number; deadLetters?: number }> {
  const one = async (query: string) => {
    const samples = await queryPrometheus(url, query, { timeoutMs: 1000 }).catch(() => undefined);
    return samples ? samples.reduce((sum, s) => sum + s.value, 0) : undefined;
  };
  const [lag, deadLetters] = await Promise.all([one('sum(junction_consumer_lag_records)'), one('sum(junction_dlq_depth)')]);
  return { ...(lag !== undefined ? { lag } : {}), ...(deadLetters !== undefined ? { deadLetters } : {}) };
}

const ms = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)} ms`);

function line(stats: LoadStats, health: { lag?: number; deadLetters?: number }): string {
  return [
    `placed ${stats.placed}`,
    `confirmed ${stats.confirmed}`,
    `cancelled ${stats.cancelled}`,
    `pending ${stats.pending}`,
    ...(stats.refused ? [style('red', `refused ${stats.refused}`)] : []),
    ...(stats.dropped ? [style('yellow', `dropped ${stats.dropped}`)] : []),
    `p99 placed→confirmed ${ms(percentile(stats.completionMs, 99))}`,
    `lag ${health.lag ?? '-'}`,
    `dead letters ${health.deadLetters ?? '-'}`,
  ].join('  ');
}

/** `junction demo load`: orders flowing through the running stack, so dashboards show life. */
export function demoLoadCommand(): Command {
  return new Command('load')
    .description(
      'place orders through the gateway at a random (Poisson) rate, follow each to confirmed or cancelled, and show a live line (placed, confirmed, cancelled, lag, dead letters); stops by itself',
    )
    .option('--rate <n>', 'orders per second, on average', rate, 5)
    .option('--duration <seconds>', 'how long to place orders', integer(1, 3600), 60)
    .option('--count <n>', 'stop after this many orders (before the duration, if sooner)', integer(1, 1_000_000))
    .option('--client <id>', 'the client whose token places the orders (needs orders:write and orders:read)', 'shop')
    .option('--gateway-url <url>', 'the API gateway', 'http://127.0.0.1:8080')
    .option('--auth-url <url>', `the auth server (default JUNCTION_AUTH_URL or ${DEFAULT_AUTH_URL})`)
    .option('--state-dir <dir>', "the stack's state directory, where the client's secret is (default .junction)")
    .option('--prometheus-url <url>', 'where lag and dead letters are read from', 'http://127.0.0.1:9090')
    .addHelpText('after', '\nStart the flow first with ./junction up. Example: ./junction demo load --rate 20 --duration 120')
    .action(async (flags: LoadFlags) => {
      const { token } = await fetchToken({
        client: flags.client,
        timeout: 10,
        ...(flags.authUrl ? { authUrl: flags.authUrl } : {}),
        ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
      });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      const live = process.stdout.isTTY;
      let health: { lag?: number; deadLetters?: number } = {};
      let lastPrinted = 0;
      process.stderr.write(
        `Placing about ${flags.rate} orders/s through ${flags.gatewayUrl} for ${flags.duration} s${flags.count ? ` (at most ${flags.count})` : ''}; Ctrl-C stops.\n`,
      );
      const stats = await runOrderLoad({
        gatewayUrl: flags.gatewayUrl.replace(/\/+$/, ''),
        token,
        rate: flags.rate,
        durationMs: flags.duration * 1000,
        ...(flags.count ? { count: flags.count } : {}),
        signal: stop.signal,
        onTick: (now) => {
          void flowHealth(flags.prometheusUrl).then((h) => {
            health = h;
          });
          if (live) process.stdout.write(`\r${line(now, health)}\u001b[K`);
          else if (Date.now() - lastPrinted >= 5000) {
            lastPrinted = Date.now();
            console.log(line(now, health));
          }
        },
      });
      process.removeListener('SIGINT', onSignal);
      if (live) process.stdout.write('\n');
      console.log(
        `\n${table(
          ['PLACED', 'CONFIRMED', 'CANCELLED', 'PENDING', 'REFUSED', 'DROPPED', 'P50', 'P99'],
          [
            [
              String(stats.placed),
              String(stats.confirmed),
              String(stats.cancelled),
              String(stats.pending),
              String(stats.refused),
              String(stats.dropped),
              ms(percentile(stats.completionMs, 50)),
              ms(percentile(stats.completionMs, 99)),
            ],
          ],
        )}`,
      );
      if (stats.firstRefusal) console.log(style('red', `first refusal: ${stats.firstRefusal}`));
      // Orders refused or never settled are a failed run, for scripts.
      process.exitCode = stats.refused > 0 || stats.pending > 0 ? 1 : 0;
    });
}
