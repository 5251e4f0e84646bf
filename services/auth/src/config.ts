import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { JunctionError } from '@junction/observability';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/** Signing algorithms the server issues tokens with. */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256'] as const;

/** A signing algorithm of {@link SIGNING_ALGORITHMS}. */
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** Where a client's secret comes from; a secret itself never sits in the config file. */
export type SecretSource = { env: string } | { file: string } | { generated: true };

/** One client of the client credentials grant. */
export interface ClientConfig {
  id: string;
  description?: string;
  /** The scopes the client may ask for; a token holds only those it asked for. */
  scopes: string[];
  secret: SecretSource;
}

/** The validated configuration file (`services/auth/clients.yaml`). */
export interface AuthConfig {
  /** The file it was read from, for messages. */
  file: string;
  /** Optional here; `JUNCTION_AUTH_ISSUER` overrides it, and the listening URL is the default. */
  issuer?: string;
  /** The `aud` of every token: the resource server (the gateway). */
  audience: string;
  tokenTtlSeconds: number;
  /** How long a rotated key is published before it signs: longer than verifiers' JWKS refetch cooldown. */
  keyActivationDelaySeconds: number;
  algorithm: SigningAlgorithm;
  clients: ClientConfig[];
}

/** Events scopes read `events:<topic>:write` or `events:<topic>:read`, the topic as in schemas/topics.yaml. */
const EVENTS_SCOPE = /^events:[a-z0-9][a-z0-9._-]*:(read|write)$/;
// RFC 6749 §3.3 scope-token characters: printable ASCII without space, `"` and `\`.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const scope = z
  .string()
  .regex(SCOPE_TOKEN, 'a scope is printable ASCII without spaces, quotes or backslashes')
  .refine((s) => !s.startsWith('events:') || EVENTS_SCOPE.test(s), 'an events scope reads events:<topic>:write or events:<topic>:read');

const UNITS = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;
/** `900`, `900s`, `15m`, `1h` or `300ms` → seconds (a fraction for milliseconds). */
const duration = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+\s*(ms|[smh])?$/, 'a duration reads like 900, 900s, 15m, 1h or 300ms')
    .transform((text) => {
      const unit = /[a-z]+$/.exec(text)?.[0] ?? 's';
      return Number.parseInt(text, 10) * UNITS[unit as keyof typeof UNITS];
    }),
]);

/** Default {@link AuthConfig.keyActivationDelaySeconds}: twice jose's 30 s JWKS cooldown. */
export const DEFAULT_KEY_ACTIVATION_DELAY_SECONDS = 60;

const secretSource = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name, like JUNCTION_AUTH_DEMO_SECRET') }),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ generated: z.literal(true) }),
]);

const schema = z.strictObject({
  issuer: z.url().optional(),
  audience: z.string().min(1).default('urn:junction:gateway'),
  tokenTtl: duration.pipe(z.number().int('whole seconds').min(30, 'at least 30 seconds').max(86_400, 'at most 24 hours')).default(900),
  keyActivationDelay: duration.pipe(z.number().max(86_400, 'at most 24 hours')).default(DEFAULT_KEY_ACTIVATION_DELAY_SECONDS),
  algorithm: z.enum(SIGNING_ALGORITHMS).default('ES256'),
  clients: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a client id is lower-case letters, digits, ".", "_" or "-"'),
        description: z.string().optional(),
        scopes: z.array(scope).min(1, 'a client needs at least one scope'),
        secret: secretSource.default({ generated: true }),
      }),
    )
    .min(1, 'configure at least one client')
    .superRefine((clients, ctx) => {
      const seen = new Set<string>();
      clients.forEach((client, i) => {
        if (seen.has(client.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `client "${client.id}" is configured twice` });
        seen.add(client.id);
      });
    }),
});

/** Throws one `config.invalid` error naming the file and every failing field path. */
function invalid(file: string, problems: string[]): never {
  throw new JunctionError('config.invalid', `${file} is not a valid auth configuration: ${problems.join('; ')}`, {
    context: { file, problems },
  });
}

/** Validates an already parsed configuration; `file` names it in messages and anchors relative secret files. */
export function parseAuthConfig(value: unknown, file: string): AuthConfig {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    invalid(
      file,
      parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`),
    );
  }
  const { tokenTtl, keyActivationDelay, clients, issuer, ...rest } = parsed.data;
  const base = dirname(file);
  return {
    file,
    ...rest,
    ...(issuer ? { issuer } : {}),
    tokenTtlSeconds: tokenTtl,
    keyActivationDelaySeconds: keyActivationDelay,
    clients: clients.map(({ description, secret, ...client }) => ({
      ...client,
      ...(description ? { description } : {}),
      secret: 'file' in secret ? { file: resolve(base, secret.file) } : secret,
    })),
  };
}

/** Reads and validates a YAML configuration file, reporting every problem at once. */
export async function loadAuthConfig(file: string): Promise<AuthConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new JunctionError('config.invalid', `cannot read the auth configuration ${path}: ${(error as Error).message}`, {
      cause: error,
      context: { file: path },
    });
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0)
    invalid(
      path,
      document.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`),
    );
  return parseAuthConfig(document.toJS(), path);
}
