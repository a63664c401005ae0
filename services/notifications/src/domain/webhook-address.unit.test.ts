import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress } from './webhook-address.ts';

/**
 * Issue 22, SSRF: every address a webhook host resolves to is classified before the connection,
 * including the IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) and the special ranges
 * an egress rule of "not RFC 1918" missed (CGNAT, link-local, benchmarking).
 */
describe('classifyAddress', () => {
  const cases: [string, 'public' | 'loopback' | 'internal'][] = [
    ['93.184.216.34', 'public'],
    ['2606:2800:220:1:248:1893:25c8:1946', 'public'],
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'internal'],
    ['10.0.0.5', 'internal'],
    ['100.64.0.1', 'internal'],
    ['100.127.255.254', 'internal'],
    ['169.254.169.254', 'internal'],
    ['172.16.0.1', 'internal'],
    ['172.31.255.255', 'internal'],
    ['192.0.0.8', 'internal'],
    ['192.0.2.1', 'internal'],
    ['192.168.1.1', 'internal'],
    ['198.18.0.1', 'internal'],
    ['198.51.100.7', 'internal'],
    ['203.0.113.9', 'internal'],
    ['224.0.0.1', 'internal'],
    ['240.0.0.1', 'internal'],
    ['255.255.255.255', 'internal'],
    ['::', 'internal'],
    ['::ffff:10.0.0.1', 'internal'],
    ['::ffff:a9fe:a9fe', 'internal'],
    ['64:ff9b::a00:1', 'internal'],
    ['64:ff9b::a9fe:a9fe', 'internal'],
    ['64:ff9b::5db8:d822', 'public'],
    ['64:ff9b:1::1', 'internal'],
    ['2002:a00:1::1', 'internal'],
    ['2002:5db8:d822::1', 'public'],
    ['2001::1', 'internal'],
    ['2001:db8::1', 'internal'],
    ['100::1', 'internal'],
    ['fc00::1', 'internal'],
    ['fd12:3456::1', 'internal'],
    ['fe80::1', 'internal'],
    ['fec0::1', 'internal'],
    ['ff02::1', 'internal'],
    ['not an address', 'internal'],
  ];
  for (const [address, expected] of cases) {
    it(`${address} is ${expected}`, () => assert.equal(classifyAddress(address), expected));
  }
});
