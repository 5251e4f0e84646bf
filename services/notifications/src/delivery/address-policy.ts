import { isIP } from 'node:net';

/** Decides, for an address actually about to be connected to, whether a webhook may reach it. */
export interface AddressPolicy {
  /** undefined when allowed; else why not, e.g. "127.0.0.1 is a loopback address (allow it with JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES)". */
  refusal(address: string): string | undefined;
}

// Named in every refusal so an operator who meets one on the local stack knows the way out.
const ALLOW_SETTING = 'JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES';

interface Ip {
  family: 4 | 6;
  value: bigint;
}
interface Range extends Ip {
  bits: number;
}
interface Rule extends Range {
  what: string;
}

// First match wins, so a narrower rule stands before the wider one that contains it.
const V4_RULES: readonly Rule[] = [
  rule('255.255.255.255/32', 'the broadcast address'),
  rule('0.0.0.0/8', 'an unspecified address'),
  rule('10.0.0.0/8', 'a private address'),
  rule('100.64.0.0/10', 'a shared (CGNAT) address'),
  rule('127.0.0.0/8', 'a loopback address'),
  rule('169.254.169.254/32', 'the cloud metadata address'),
  rule('169.254.0.0/16', 'a link-local address'),
  rule('172.16.0.0/12', 'a private address'),
  rule('192.0.0.0/24', 'a reserved address'),
  rule('192.0.2.0/24', 'a documentation address'),
  rule('192.88.99.0/24', 'a reserved address'),
  rule('192.168.0.0/16', 'a private address'),
  rule('198.18.0.0/15', 'a benchmarking address'),
  rule('198.51.100.0/24', 'a documentation address'),
  rule('203.0.113.0/24', 'a documentation address'),
  rule('224.0.0.0/4', 'a multicast address'),
  rule('240.0.0.0/4', 'a reserved address'),
];

const V6_RULES: readonly Rule[] = [
  rule('::/128', 'an unspecified address'),
  rule('::1/128', 'a loopback address'),
  rule('64:ff9b:1::/48', 'a local-use NAT64 address'),
  rule('100::/64', 'a discard address'),
  rule('2001::/32', 'a Teredo address'),
  rule('2001:2::/48', 'a benchmarking address'),
  rule('2001:10::/28', 'a reserved address'),
  rule('2001:20::/28', 'a reserved address'),
  rule('2001:db8::/32', 'a documentation address'),
  rule('3fff::/20', 'a documentation address'),
  rule('fd00:ec2::254/128', 'the cloud metadata address'),
  rule('fc00::/7', 'a private (unique local) address'),
  rule('fe80::/10', 'a link-local address'),
  rule('fec0::/10', 'a site-local address'),
  rule('ff00::/8', 'a multicast address'),
];
const GLOBAL_UNICAST = range('2000::/3');

// IPv6 forms that a dual-stack host or a translator turns into an IPv4 connection, with where
// the IPv4 address sits (its lowest bit's position): they are judged as the IPv4 inside.
const CARRIERS: readonly { range: Range; shift: bigint }[] = [
  { range: range('::ffff:0:0/96'), shift: 0n },
  { range: range('64:ff9b::/96'), shift: 0n },
  { range: range('2002::/16'), shift: 80n },
];

/** The policy refusing every non-public range except the `allow` CIDRs ("127.0.0.1/32", "10.0.0.0/8", "::1/128"); a malformed CIDR throws an Error naming it. */
export function addressPolicy(allow: readonly string[]): AddressPolicy {
  const allowed = allow.map((cidr) => {
    const parsed = parseCidr(cidr.trim());
    if (parsed === undefined) throw new Error(`not a CIDR (like 127.0.0.1/32 or ::1/128): "${cidr}"`);
    return parsed;
  });
  return {
    refusal(address) {
      const ip = parseIp(address);
      if (ip === undefined) return `${address} is not an IP address`;
      const inner = carried(ip);
      const judged = inner ?? ip;
      if (allowed.some((r) => contains(r, ip) || contains(r, judged))) return undefined;
      const what = classify(judged);
      return what === undefined ? undefined : explain(address, inner, what);
    },
  };
}

function classify(ip: Ip): string | undefined {
  const what = (ip.family === 4 ? V4_RULES : V6_RULES).find((r) => contains(r, ip))?.what;
  if (what !== undefined || ip.family === 4 || contains(GLOBAL_UNICAST, ip)) return what;
  // Everything outside global unicast is unassigned or special: refuse it rather than enumerate it.
  return 'not a global unicast address';
}

function explain(address: string, inner: Ip | undefined, what: string): string {
  const carrier = inner === undefined ? `${address} is` : `${address} carries ${formatV4(inner.value)},`;
  return `${carrier} ${what} (allow it with ${ALLOW_SETTING})`;
}

function carried(ip: Ip): Ip | undefined {
  if (ip.family === 4) return undefined;
  const carrier = CARRIERS.find((c) => contains(c.range, ip));
  return carrier && { family: 4, value: (ip.value >> carrier.shift) & 0xffff_ffffn };
}

function contains(r: Range, ip: Ip): boolean {
  if (r.family !== ip.family) return false;
  const drop = BigInt((r.family === 4 ? 32 : 128) - r.bits);
  return r.value >> drop === ip.value >> drop;
}

function rule(cidr: string, what: string): Rule {
  return { ...range(cidr), what };
}

function range(cidr: string): Range {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) throw new Error(`bad built-in range ${cidr}`);
  return parsed;
}

/** A CIDR, or a bare address meaning just that address. */
function parseCidr(cidr: string): Range | undefined {
  const [address = '', bits, ...rest] = cidr.split('/');
  if (rest.length > 0 || address.includes('%') || address.includes('[')) return undefined;
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  const width = ip.family === 4 ? 32 : 128;
  if (bits === undefined) return { ...ip, bits: width };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > width) return undefined;
  return { ...ip, bits: Number(bits) };
}

function parseIp(text: string): Ip | undefined {
  // URL hostnames keep IPv6 brackets, and link-local addresses may name their interface.
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const address = bare.split('%')[0] ?? '';
  switch (isIP(address)) {
    case 4:
      return { family: 4, value: parseV4(address) };
    case 6:
      return { family: 6, value: parseV6(address) };
    default:
      return undefined;
  }
}

function parseV4(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

// Only called on text isIP already accepted as IPv6, so the shape is known to be sound.
function parseV6(address: string): bigint {
  let text = address;
  if (text.includes('.')) {
    const at = text.lastIndexOf(':') + 1;
    const v4 = parseV4(text.slice(at));
    text = `${text.slice(0, at)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(left);
  const tail = right === undefined ? [] : groups(right);
  const all = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return all.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.');
}
