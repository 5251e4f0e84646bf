import type { Diagnostic, ParseSchemaInput, SchemaParser, ValidateSchemaInput } from '@asyncapi/parser';
import { Parser } from '@asyncapi/parser';
import { type AvroSchema, avroType } from '@junction/events';
import { parse } from 'yaml';

/** The schema formats of Avro 1.9.0 payloads that the AsyncAPI spec names. */
export const AVRO_SCHEMA_FORMATS = [
  'application/vnd.apache.avro;version=1.9.0',
  'application/vnd.apache.avro+json;version=1.9.0',
  'application/vnd.apache.avro+yaml;version=1.9.0',
];

/**
 * Avro support for @asyncapi/parser 3.6.3, which ships none (and @asyncapi/avro-schema-parser is
 * not a dependency). For 3.x documents the parser only calls a schema parser's `parse`, never its
 * `validate`, so {@link validateAsyncApi} checks the Avro payloads itself; registering this
 * keeps the parser from treating the format as unknown. Parsing keeps the Avro schema as it is,
 * under a short description: nothing downstream needs a JSON Schema translation of it.
 */
export function avroSchemaParser(): SchemaParser {
  return {
    getMimeTypes: () => AVRO_SCHEMA_FORMATS,
    validate: (input: ValidateSchemaInput<unknown, unknown>) => avroProblems(input.data, input.path),
    parse: async (input: ParseSchemaInput<unknown, unknown>) => ({
      description: `Avro schema ${String((input.data as { name?: unknown }).name ?? '')}`.trim(),
      'x-avro-schema': input.data,
    }),
  };
}

/** Builds the schema with the same avsc types (and Junction's logical types) that encode and decode the events. */
function avroProblems(schema: unknown, path: Array<string | number>): Array<{ message: string; path: Array<string | number> }> {
  try {
    avroType(schema as AvroSchema);
    return [];
  } catch (error) {
    return [{ message: `not a valid Avro schema: ${error instanceof Error ? error.message : String(error)}`, path }];
  }
}

/** Every Avro payload defined in the document (not through a $ref), with its path. */
function avroPayloads(document: unknown): Array<{ schema: unknown; path: string[] }> {
  const found: Array<{ schema: unknown; path: string[] }> = [];
  const doc = (document ?? {}) as { channels?: Record<string, { messages?: unknown }>; components?: { messages?: unknown } };
  const visit = (messages: unknown, base: string[]) => {
    for (const [id, message] of Object.entries(
      (messages ?? {}) as Record<string, { payload?: { schemaFormat?: unknown; schema?: unknown } }>,
    )) {
      const payload = message?.payload;
      if (payload && AVRO_SCHEMA_FORMATS.includes(String(payload.schemaFormat))) {
        found.push({ schema: payload.schema, path: [...base, id, 'payload', 'schema'] });
      }
    }
  };
  visit(doc.components?.messages, ['components', 'messages']);
  for (const [id, channel] of Object.entries(doc.channels ?? {})) visit(channel?.messages, ['channels', id, 'messages']);
  return found;
}

/** One problem the AsyncAPI parser found, located by its path in the document. */
export interface AsyncApiProblem {
  severity: 'error' | 'warning' | 'info' | 'hint';
  path: string;
  message: string;
}

const SEVERITIES = ['error', 'warning', 'info', 'hint'] as const;

/** Parses an AsyncAPI document with Avro support; every diagnostic, errors first. */
export async function validateAsyncApi(text: string): Promise<AsyncApiProblem[]> {
  const parser = new Parser({ schemaParsers: [avroSchemaParser()] });
  const { diagnostics } = await parser.parse(text);
  let document: unknown;
  try {
    document = parse(text);
  } catch {
    // Not YAML: the parser has said so already.
  }
  const avro = avroPayloads(document).flatMap(({ schema, path }) =>
    avroProblems(schema, path).map((p) => ({ severity: 0, path: p.path, message: p.message }) as unknown as Diagnostic),
  );
  // The parser reports a problem once per path that reaches it through a $ref (every operation
  // and channel using a message); one report, at the definition where possible, is enough.
  const byMessage = new Map<string, AsyncApiProblem>();
  for (const d of [...avro, ...(diagnostics as Diagnostic[])]) {
    const problem: AsyncApiProblem = {
      severity: SEVERITIES[d.severity] ?? 'error',
      path: d.path.map(String).join('.') || '(document)',
      message: d.message,
    };
    const at = d.path.lastIndexOf('messages');
    const key = `${problem.severity} ${problem.message} ${at < 0 ? problem.path : d.path.slice(at + 2).join('.')}`;
    const seen = byMessage.get(key);
    const better = (a: string, b: string) =>
      a.startsWith('components.') !== b.startsWith('components.') ? a.startsWith('components.') : a.length < b.length;
    if (!seen || better(problem.path, seen.path)) byMessage.set(key, problem);
  }
  return [...byMessage.values()].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
}
