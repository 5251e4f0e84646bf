import { JunctionError } from '@junction/observability';
import { type BackoffOptions, retrying } from '../backoff.ts';
import type { AvroSchema } from './avro.ts';
import { COMPATIBILITY_MODES, type Compatibility } from './catalog.ts';

/** Options of {@link createRegistryAdmin}. */
export interface RegistryAdminOptions {
  /** The Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
  registryUrl: string;
  /** Per request; default 5000 ms. */
  timeoutMs?: number;
  /** Retries of a request the registry did not answer (or answered 5xx); default 3. */
  retries?: number;
  /** Delays between retries; default 200 ms doubling to 2 s, ±20 %. */
  backoff?: BackoffOptions;
}

/** A registered version of a subject. */
export interface RegisteredSchema {
  id: number;
  version: number;
  schema: AvroSchema;
}

/** What the registry says about a candidate schema. */
export interface CompatibilityVerdict {
  compatible: boolean;
  /** The registry's reasons when not compatible (verbose mode). */
  messages: string[];
}

/** Administration of subjects in a Confluent-compatible schema registry (Apicurio's ccompat API or Confluent's). */
export interface RegistryAdmin {
  /** Sets the compatibility of one subject (PUT /config/{subject}). */
  setCompatibility(subject: string, mode: Compatibility): Promise<void>;
  /** The subject's compatibility, or the registry's global one when the subject has none of its own. */
  compatibility(subject: string): Promise<Compatibility>;
  /** Registers `schema` under `subject` and returns its id; registering the same schema again returns the same id. */
  register(subject: string, schema: AvroSchema): Promise<number>;
  /** The subject's version numbers, oldest first; `schema.unknown` for an unknown subject. */
  versions(subject: string): Promise<number[]>;
  /** One version of a subject (`latest` for the newest). */
  schemaOf(subject: string, version: number | 'latest'): Promise<RegisteredSchema>;
  /** The id `schema` has under `subject`, without registering it; `schema.unknown` when it is not there. */
  idOf(subject: string, schema: AvroSchema): Promise<number>;
  /** The schema registered under `id`, exactly as registered (custom attributes included). */
  schemaById(id: number): Promise<AvroSchema>;
  /** Whether `schema` could be registered as the subject's next version; an unknown subject accepts anything. */
  testCompatibility(subject: string, schema: AvroSchema): Promise<CompatibilityVerdict>;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, multiplier: 2, maxMs: 2000, jitter: 0.2 };
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** The registry's error body, `{ error_code, message }`. */
interface ErrorBody {
  error_code?: number;
  message?: string;
}

const isCompatibility = (value: unknown): value is Compatibility => (COMPATIBILITY_MODES as readonly unknown[]).includes(value);

/** Maps an HTTP failure to Junction's error codes: the caller branches on `code`, never on the text. */
function httpError(status: number, body: ErrorBody, context: Record<string, unknown>): JunctionError {
  const detail = body.message ?? `HTTP ${status}`;
  const at = { ...context, status, ...(body.error_code === undefined ? {} : { errorCode: body.error_code }) };
  if (status === 409 || status === 422)
    return new JunctionError('schema.incompatible', `the registry rejected the schema: ${detail}`, { context: at });
  if (status === 404) return new JunctionError('schema.unknown', `not in the registry: ${detail}`, { context: at });
  if (status >= 500 || status === 408 || status === 429) {
    return new JunctionError('registry.unavailable', `schema registry failed: ${detail}`, { context: at });
  }
  return new JunctionError('internal', `schema registry answered ${status}: ${detail}`, { context: at, retriable: false });
}

/** Creates a {@link RegistryAdmin} over `fetch`; every request has a timeout and bounded retries. */
export function createRegistryAdmin(options: RegistryAdminOptions): RegistryAdmin {
  const base = options.registryUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const retry = { retries: options.retries ?? 3, ...(options.backoff ?? DEFAULT_BACKOFF) };

  const once = async (method: string, path: string, context: Record<string, unknown>, body?: unknown): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // A refused connection, a reset or our own timeout: nothing answered, so try again.
      const why =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : String((error as Error)?.cause ?? error);
      throw new JunctionError('registry.unavailable', `schema registry at ${base} does not answer (${why})`, { cause: error, context });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    if (!response.ok) throw httpError(response.status, (parsed ?? {}) as ErrorBody, context);
    return parsed;
  };

  const call = async (method: string, path: string, context: Record<string, unknown>, body?: unknown): Promise<unknown> => {
    let attempts = 0;
    try {
      return await retrying(
        () => {
          attempts += 1;
          return once(method, path, context, body);
        },
        { ...retry, retriable: (error) => error instanceof JunctionError && error.retriable },
      );
    } catch (error) {
      if (error instanceof JunctionError && error.code === 'registry.unavailable' && attempts > 1) {
        throw new JunctionError('registry.unavailable', `${error.message}, after ${attempts} attempts`, {
          cause: error,
          context: { ...context, attempts },
        });
      }
      throw error;
    }
  };

  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

  return {
    async setCompatibility(subject, mode) {
      await call('PUT', `/config/${encodeURIComponent(subject)}`, { subject }, { compatibility: mode });
    },
    async compatibility(subject) {
      const level = async (path: string) => {
        const body = (await call('GET', path, { subject })) as { compatibilityLevel?: unknown; compatibility?: unknown };
        return body.compatibilityLevel ?? body.compatibility;
      };
      let found: unknown;
      try {
        found = await level(`/config/${encodeURIComponent(subject)}`);
      } catch (error) {
        // Confluent answers 404 for a subject without its own level; the global one applies.
        if (!(error instanceof JunctionError && error.code === 'schema.unknown')) throw error;
      }
      found ??= await level('/config');
      if (!isCompatibility(found)) {
        throw new JunctionError('internal', `the registry reports an unknown compatibility ${JSON.stringify(found)} for ${subject}`, {
          context: { subject },
        });
      }
      return found;
    },
    async register(subject, schema) {
      const body = (await call(
        'POST',
        `${subjectPath(subject)}/versions`,
        { subject },
        { schemaType: 'AVRO', schema: JSON.stringify(schema) },
      )) as {
        id: number;
      };
      return body.id;
    },
    async versions(subject) {
      return ((await call('GET', `${subjectPath(subject)}/versions`, { subject })) as number[]).toSorted((a, b) => a - b);
    },
    async schemaOf(subject, version) {
      const body = (await call('GET', `${subjectPath(subject)}/versions/${version}`, { subject, version })) as {
        id: number;
        version: number;
        schema: string;
      };
      return { id: body.id, version: body.version, schema: JSON.parse(body.schema) as AvroSchema };
    },
    async idOf(subject, schema) {
      const body = (await call('POST', subjectPath(subject), { subject }, { schemaType: 'AVRO', schema: JSON.stringify(schema) })) as {
        id: number;
      };
      return body.id;
    },
    async schemaById(id) {
      const body = (await call('GET', `/schemas/ids/${id}`, { schemaId: id })) as { schema: string };
      return JSON.parse(body.schema) as AvroSchema;
    },
    async testCompatibility(subject, schema) {
      try {
        const body = (await call(
          'POST',
          `/compatibility${subjectPath(subject)}/versions/latest?verbose=true`,
          { subject },
          { schemaType: 'AVRO', schema: JSON.stringify(schema) },
        )) as { is_compatible?: boolean; messages?: unknown };
        const messages = Array.isArray(body.messages) ? body.messages.map(String) : [];
        return { compatible: body.is_compatible === true, messages };
      } catch (error) {
        // No version yet: the first one is compatible with nothing to break.
        if (error instanceof JunctionError && error.code === 'schema.unknown') return { compatible: true, messages: [] };
        throw error;
      }
    },
  };
}
