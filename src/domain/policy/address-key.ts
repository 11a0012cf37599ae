// Whom the server's limits count against (docs/defences.md#sources). An IPv4 address stands for
// itself; an IPv6 address for its /64, the smallest block a provider hands out, since one host
// can take any address inside it at will and would otherwise dodge every per-address limit.
// Two IPv6 ranges carry an IPv4 address inside them and are keyed by it instead: 6to4
// (2002::/16, RFC 3056), where one IPv4 host owns a whole /48 and would otherwise get 65,536
// keys, and NAT64 (64:ff9b::/96, RFC 6052), where a /64 would fold every IPv4 client behind the
// gateway into one key.

function expandIpv6(address: string): number[] | undefined {
  const [head = '', tail, ...rest] = address.split('::');
  if (rest.length > 0) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...right];
  return groups.some((g) => Number.isNaN(g)) ? undefined : groups;
}

export function addressKey(address: string): string {
  const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').replace(/%.*$/, '');
  if (!bare.includes(':')) return bare;
  // An IPv4 tail ("64:ff9b::192.0.2.1") is two groups written another way.
  const hexTail = bare.replace(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, (_, a: string, b: string, c: string, d: string) =>
    [Number(a) * 256 + Number(b), Number(c) * 256 + Number(d)].map((g) => g.toString(16)).join(':'),
  );
  const groups = expandIpv6(hexTail);
  if (!groups) return bare;
  const ipv4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  if (groups[0] === 0x2002) return ipv4(groups[1]!, groups[2]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return ipv4(groups[6]!, groups[7]!);
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
