import { describe, expect, it } from 'vitest';
import { addressPolicy } from './address-policy.ts';

const strict = addressPolicy([]);

describe('addressPolicy without an allow list', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.255.254', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['10.255.255.255', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.10', 'a private address'],
    ['fc00::1', 'a private (unique local) address'],
    ['fdff:ffff::1', 'a private (unique local) address'],
    ['169.254.0.1', 'a link-local address'],
    ['169.254.169.254', 'the cloud metadata address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['febf::1', 'a link-local address'],
    ['fd00:ec2::254', 'the cloud metadata address'],
    ['0.0.0.0', 'an unspecified address'],
    ['0.1.2.3', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['100.64.0.1', 'a shared (CGNAT) address'],
    ['100.127.255.255', 'a shared (CGNAT) address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['240.0.0.1', 'a reserved address'],
    ['255.255.255.255', 'the broadcast address'],
    ['192.0.2.1', 'a documentation address'],
    ['2001:db8::1', 'a documentation address'],
    ['198.18.0.1', 'a benchmarking address'],
    ['2001:0:4136:e378::1', 'a Teredo address'],
    ['::7f00:1', 'not a global unicast address'],
    ['100::1', 'a discard address'],
  ])('refuses %s as %s, naming the setting that would allow it', (address, what) => {
    expect(strict.refusal(address)).toBe(`${address} is ${what} (allow it with JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES)`);
  });

  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', '127.0.0.1', 'a loopback address'],
    ['::ffff:a9fe:a9fe', '169.254.169.254', 'the cloud metadata address'],
    ['::ffff:10.1.2.3', '10.1.2.3', 'a private address'],
    ['64:ff9b::10.0.0.1', '10.0.0.1', 'a private address'],
    ['64:ff9b::7f00:1', '127.0.0.1', 'a loopback address'],
    ['2002:c0a8:0101::1', '192.168.1.1', 'a private address'],
  ])('judges %s by the IPv4 address it carries (%s)', (address, inner, what) => {
    expect(strict.refusal(address)).toBe(`${address} carries ${inner}, ${what} (allow it with JUNCTION_NOTIFICATIONS_ALLOW_ADDRESSES)`);
  });

  it.each([
    '93.184.215.14',
    '1.1.1.1',
    '8.8.8.8',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.1', // just above it
    '100.63.255.255', // just below 100.64/10
    '100.128.0.1', // just above it
    '169.253.255.255',
    '223.255.255.255', // just below multicast
    '11.0.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
  ])('allows the public address %s', (address) => {
    expect(strict.refusal(address)).toBeUndefined();
  });

  it('accepts URL-style bracketed IPv6 and refuses what is not an address', () => {
    expect(strict.refusal('[::1]')).toMatch(/^\[::1\] is a loopback address/);
    expect(strict.refusal('[2606:4700:4700::1111]')).toBeUndefined();
    expect(strict.refusal('localhost')).toBe('localhost is not an IP address');
    expect(strict.refusal('')).toBe(' is not an IP address');
    expect(strict.refusal('127.0.0.1.')).toBe('127.0.0.1. is not an IP address');
  });
});

describe('addressPolicy with an allow list', () => {
  it('allows exactly the listed CIDRs and still refuses the rest', () => {
    const policy = addressPolicy(['127.0.0.1/32', '10.20.0.0/16', '::1/128']);
    expect(policy.refusal('127.0.0.1')).toBeUndefined();
    expect(policy.refusal('127.0.0.2')).toMatch(/loopback/);
    expect(policy.refusal('10.20.5.6')).toBeUndefined();
    expect(policy.refusal('10.21.0.1')).toMatch(/private/);
    expect(policy.refusal('::1')).toBeUndefined();
    expect(policy.refusal('169.254.169.254')).toMatch(/metadata/);
    expect(policy.refusal('8.8.8.8')).toBeUndefined();
  });

  it('allows a whole range, and a carried IPv4 address by its IPv4 allowance', () => {
    const policy = addressPolicy(['127.0.0.0/8']);
    expect(policy.refusal('127.0.0.1')).toBeUndefined();
    expect(policy.refusal('127.200.0.9')).toBeUndefined();
    expect(policy.refusal('::ffff:127.0.0.1')).toBeUndefined();
    expect(policy.refusal('::1')).toMatch(/loopback/);
  });

  it('takes a bare address as that one address, and tolerates spaces around entries', () => {
    const policy = addressPolicy([' 192.168.1.5 ', 'fd00::7']);
    expect(policy.refusal('192.168.1.5')).toBeUndefined();
    expect(policy.refusal('192.168.1.6')).toMatch(/private/);
    expect(policy.refusal('fd00::7')).toBeUndefined();
    expect(policy.refusal('fd00::8')).toMatch(/unique local/);
  });

  it('allows everything under /0, as a test harness might', () => {
    const policy = addressPolicy(['0.0.0.0/0', '::/0']);
    for (const address of ['127.0.0.1', '169.254.169.254', '::1', 'fe80::1']) expect(policy.refusal(address)).toBeUndefined();
  });

  it.each([
    '127.0.0.1/33',
    '::1/129',
    '10.0.0.0/-1',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0/8',
    'localhost/32',
    '[::1]/128',
    'fe80::1%eth0/64',
    '',
  ])('throws for the malformed CIDR "%s", naming it', (cidr) => {
    expect(() => addressPolicy(['127.0.0.1/32', cidr])).toThrow(`"${cidr}"`);
  });
});
