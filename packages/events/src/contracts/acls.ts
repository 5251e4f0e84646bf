import { JunctionError } from '@junction/observability';
import kafkajs, { type Admin } from 'kafkajs';
import type { Catalog } from './catalog.ts';

// kafkajs is CommonJS and spreads its error classes into its exports, which hides these from
// Node's named-export detection: they are read from the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** Operations Junction grants. */
export const ACL_OPERATIONS = ['READ', 'WRITE', 'CREATE', 'DESCRIBE'] as const;

/** One ACL: `principal` may do `operation` on the topic or group named (or prefixed) by `resourceName`, from any host. */
export interface AclBinding {
  /** `User:<service>`. */
  principal: string;
  resourceType: 'TOPIC' | 'GROUP';
  resourceName: string;
  patternType: 'LITERAL' | 'PREFIXED';
  operation: (typeof ACL_OPERATIONS)[number];
}

/** What {@link applyAcls} changed. */
export interface AclChanges {
  added: AclBinding[];
  removed: AclBinding[];
  /** Bindings that were already in place. */
  unchanged: number;
}

/** `User:<service>`: services authenticate as SCRAM users named after themselves. */
export const servicePrincipal = (service: string): string => `User:${service}`;

const key = (b: AclBinding): string => [b.principal, b.resourceType, b.patternType, b.resourceName, b.operation].join('\0');

/**
 * The ACLs `schemas/topics.yaml` implies, sorted, each once. Nothing else is granted:
 *
 * - the owner and the `writers` of a topic: WRITE and DESCRIBE on it (LITERAL);
 * - each subscriber: READ and DESCRIBE on it, READ on its consumer group (the service's name,
 *   as the subscriber runtime uses it), and CREATE, WRITE, READ and DESCRIBE on the topics
 *   prefixed `<service>.`, its own retry and dead-letter topics (`<group>.<topic>.retry.<n>`,
 *   `<group>.<topic>.dlq`), which it creates and consumes.
 *
 * Operators' tools (`./junction dlq`, schemas register) connect as the super user and need none.
 * A `<service>.` prefix must not reach a topic the service may not write, or the prefix would
 * grant it: that is a `config.invalid` error.
 */
export function aclBindings(catalog: Pick<Catalog, 'topics'>): AclBinding[] {
  const bindings = new Map<string, AclBinding>();
  const grant = (binding: AclBinding) => bindings.set(key(binding), binding);
  const subscribing = new Set<string>();
  for (const topic of catalog.topics) {
    for (const writer of new Set([topic.owner, ...(topic.writers ?? [])])) {
      for (const operation of ['WRITE', 'DESCRIBE'] as const) {
        grant({ principal: servicePrincipal(writer), resourceType: 'TOPIC', resourceName: topic.name, patternType: 'LITERAL', operation });
      }
    }
    for (const subscriber of topic.subscribers) {
      subscribing.add(subscriber);
      for (const operation of ['READ', 'DESCRIBE'] as const) {
        grant({
          principal: servicePrincipal(subscriber),
          resourceType: 'TOPIC',
          resourceName: topic.name,
          patternType: 'LITERAL',
          operation,
        });
      }
    }
  }
  const problems: string[] = [];
  for (const service of subscribing) {
    const principal = servicePrincipal(service);
    grant({ principal, resourceType: 'GROUP', resourceName: service, patternType: 'LITERAL', operation: 'READ' });
    for (const operation of ['CREATE', 'WRITE', 'READ', 'DESCRIBE'] as const) {
      grant({ principal, resourceType: 'TOPIC', resourceName: `${service}.`, patternType: 'PREFIXED', operation });
    }
    for (const topic of catalog.topics) {
      if (topic.name.startsWith(`${service}.`) && topic.owner !== service && !(topic.writers ?? []).includes(service)) {
        problems.push(
          `${topic.name} starts with ${service}., the prefix of ${service}'s own retry and dead-letter topics, but ${topic.owner} owns it`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new JunctionError('config.invalid', `the ACLs of topics.yaml would grant too much: ${problems.join('; ')}`, {
      context: { problems },
    });
  }
  return [...bindings.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The bindings as table rows: principal, resource, pattern, operation. */
export function aclRows(bindings: readonly AclBinding[]): string[][] {
  return bindings.map((b) => [b.principal, `${b.resourceType.toLowerCase()} ${b.resourceName}`, b.patternType, b.operation]);
}

const nameOf = (values: object, value: number): string | undefined => Object.entries(values).find(([, v]) => v === value)?.[0];

/** A binding Kafka described, in Junction's terms; `exact` is false for kinds Junction never grants (DENY, a host, other operations), which count as stale. */
function fromKafka(
  resource: { resourceType: number; resourceName: string; resourcePatternType: number },
  acl: {
    principal: string;
    operation: number;
    permissionType: number;
    host: string;
  },
): { binding: AclBinding; exact: boolean } {
  const resourceType = nameOf(AclResourceTypes, resource.resourceType);
  const patternType = nameOf(ResourcePatternTypes, resource.resourcePatternType);
  const operation = nameOf(AclOperationTypes, acl.operation);
  const binding = {
    principal: acl.principal,
    resourceType,
    resourceName: resource.resourceName,
    patternType,
    operation,
  } as AclBinding;
  const exact =
    (resourceType === 'TOPIC' || resourceType === 'GROUP') &&
    (patternType === 'LITERAL' || patternType === 'PREFIXED') &&
    (ACL_OPERATIONS as readonly string[]).includes(operation ?? '') &&
    acl.permissionType === AclPermissionTypes.ALLOW &&
    acl.host === '*';
  return { binding, exact };
}

/** The kafkajs form of a binding: an ALLOW from any host. */
function toKafka(binding: AclBinding) {
  return {
    resourceType: AclResourceTypes[binding.resourceType],
    resourceName: binding.resourceName,
    resourcePatternType: ResourcePatternTypes[binding.patternType],
    principal: binding.principal,
    host: '*',
    operation: AclOperationTypes[binding.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** Options of {@link applyAcls}. */
export interface ApplyAclsOptions {
  /**
   * Principals whose ACLs are managed: any of their bindings not in the list is removed.
   * Default: the principals named in the bindings. Pass every service user, so a service
   * dropped from topics.yaml loses what it had.
   */
  principals?: readonly string[];
  /** Each admin call's deadline. Default 15 s. */
  timeoutMs?: number;
}

async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new JunctionError('timeout', `${what}: Kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes Kafka's ACLs of the managed principals exactly `bindings`: adds what is missing, removes
 * what is stale (other operations, DENY entries, other hosts), keeps the rest. Idempotent. The
 * admin must be connected as a super user (or hold ALTER on the cluster).
 * A broker learns new ACLs from the metadata log a moment after they were made, so an apply
 * right after another may add again what it does not see yet (Kafka keeps one copy).
 */
export async function applyAcls(admin: Admin, bindings: readonly AclBinding[], options: ApplyAclsOptions = {}): Promise<AclChanges> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const managed = new Set(options.principals ?? bindings.map((b) => b.principal));
  const wanted = new Map(bindings.map((b) => [key(b), b]));
  const described = await within(
    admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    }),
    timeoutMs,
    'reading the ACLs',
  );
  const present = new Set<string>();
  const stale: Array<ReturnType<typeof toKafka> & { binding: AclBinding }> = [];
  for (const resource of described.resources) {
    for (const acl of resource.acls) {
      if (!managed.has(acl.principal)) continue;
      const { binding, exact } = fromKafka(resource, acl);
      if (exact && wanted.has(key(binding))) {
        present.add(key(binding));
        continue;
      }
      stale.push({
        binding,
        resourceType: resource.resourceType as kafkajs.AclResourceTypes,
        resourceName: resource.resourceName,
        resourcePatternType: resource.resourcePatternType as kafkajs.ResourcePatternTypes,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation as kafkajs.AclOperationTypes,
        permissionType: acl.permissionType as kafkajs.AclPermissionTypes,
      });
    }
  }
  const added = [...wanted.values()].filter((b) => !present.has(key(b)));
  if (added.length > 0) await within(admin.createAcls({ acl: added.map(toKafka) }), timeoutMs, 'creating ACLs');
  if (stale.length > 0) {
    await within(admin.deleteAcls({ filters: stale.map(({ binding: _binding, ...filter }) => filter) }), timeoutMs, 'deleting stale ACLs');
  }
  return { added, removed: stale.map((s) => s.binding), unchanged: present.size };
}
