import { BlockList, isIP } from 'node:net';

export type AddressClass = 'public' | 'loopback' | 'internal';

// Special-purpose ranges (IANA registries) a webhook must never reach.
const internal4: [string, number][] = [
  ['0.0.0.0', 8], // this network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const internal6: [string, number][] = [
  ['::', 128], // unspecified
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, Teredo
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const blocked = new BlockList();
for (const [network, prefix] of internal4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of internal6) blocked.addSubnet(network, prefix, 'ipv6');

/**
 * What an IP address is to a webhook: `loopback` (this host), `internal` (any special-purpose range,
 * including IPv6 forms that carry such an IPv4 address: mapped, NAT64 64:ff9b::/96 and 6to4
 * 2002::/16), or `public`. Anything that is not an address is internal.
 */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 4) return classify4(address);
  if (family !== 6) return 'internal';
  const groups = expand6(address);
  if (!groups) return 'internal';
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 7) && groups[7] === 1) return 'loopback';
  if (zeros(0, 5) && groups[5] === 0xffff) return classify4(v4(groups[6]!, groups[7]!));
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return classify4(v4(groups[6]!, groups[7]!));
  if (groups[0] === 0x2002) return classify4(v4(groups[1]!, groups[2]!));
  return blocked.check(address, 'ipv6') ? 'internal' : 'public';
}

function classify4(address: string): AddressClass {
  if (address.startsWith('127.')) return 'loopback';
  return blocked.check(address, 'ipv4') ? 'internal' : 'public';
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function expand6(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = (dotted[1] as string).split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}
