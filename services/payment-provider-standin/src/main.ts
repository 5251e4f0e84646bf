import { createServer } from 'node:http';
import { z } from 'zod';
import { createStandin } from './standin.ts';

// The payment provider STAND-IN (see standin.ts): a local process in place of a real provider.
const env = z
  .object({
    PAYMENT_STANDIN_PORT: z.coerce.number().int().min(0).max(65_535).default(8190),
    PAYMENT_STANDIN_HOST: z.string().min(1).default('127.0.0.1'),
    PAYMENT_STANDIN_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(20),
    PAYMENT_STANDIN_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    PAYMENT_STANDIN_CARD_LIMIT: z
      .string()
      .regex(/^\d+(\.\d{1,2})?$/)
      .default('5000.00'),
  })
  .safeParse(process.env);
if (!env.success) {
  console.error(
    `payment provider stand-in: invalid environment: ${env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
  );
  process.exit(1);
}
const e = env.data;
const standin = createStandin({
  latencyMs: e.PAYMENT_STANDIN_LATENCY_MS,
  failureRate: e.PAYMENT_STANDIN_FAILURE_RATE,
  cardLimit: e.PAYMENT_STANDIN_CARD_LIMIT,
});
const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, standin.handle);
server.listen(e.PAYMENT_STANDIN_PORT, e.PAYMENT_STANDIN_HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : e.PAYMENT_STANDIN_PORT;
  console.log(
    JSON.stringify({
      level: 'info',
      service: 'payment-provider-standin',
      message: `payment provider STAND-IN listening on http://${e.PAYMENT_STANDIN_HOST}:${port}`,
    }),
  );
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
