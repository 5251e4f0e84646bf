import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Checks real answers against an OpenAPI 3.1 document: the operation, the status and the body's schema. */
export class OpenApiCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  /** What has been checked: `METHOD path status`. */
  readonly checked = new Set<string>();

  constructor(document: Record<string, unknown>) {
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema(document, 'openapi.json');
    this.paths = document.paths as typeof this.paths;
  }

  /** The document's path template matching a concrete path (`/v1/orders/{path}` for `/v1/orders/a/b`). */
  template(path: string): string | undefined {
    if (this.paths[path]) return path;
    return Object.keys(this.paths).find((template) => {
      const pattern = new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '.+')}$`);
      return pattern.test(path);
    });
  }

  /** Why `body` (answered with `status` to `method url`) does not match the document; empty when it does. */
  problems(method: string, url: string, status: number, contentType: string | null, body: unknown): string[] {
    const path = new URL(url).pathname;
    const template = this.template(path);
    if (!template) return [`${path} is not in the document`];
    const operation = this.paths[template]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${template} is not in the document`];
    const answer = operation.responses[String(status)] ?? operation.responses.default;
    if (!answer) return [`${method} ${template} does not document ${status}`];
    this.checked.add(`${method} ${template} ${status}`);
    if (!answer.content) return [];
    const type = (contentType ?? '').split(';')[0]?.trim() ?? '';
    if (!answer.content[type])
      return [`${method} ${template} ${status} is documented as ${Object.keys(answer.content).join(', ')}, not ${type}`];
    const pointer = [
      'paths',
      template,
      method.toLowerCase(),
      'responses',
      answer === operation.responses.default ? 'default' : String(status),
      'content',
      type,
      'schema',
    ]
      .map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const validate = this.ajv.getSchema(`openapi.json#/${pointer}`);
    if (!validate) return [`no schema at ${pointer}`];
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}`);
  }

  /** Whether `body` is a valid request body of `method path` (its JSON schema). */
  requestProblems(method: string, path: string, body: unknown): string[] {
    const template = this.template(path) as string;
    const pointer = ['paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema']
      .map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const validate = this.ajv.getSchema(`openapi.json#/${pointer}`);
    if (!validate) return [`no request schema at ${pointer}`];
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}`);
  }
}
