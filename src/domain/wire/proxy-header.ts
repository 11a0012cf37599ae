// The PROXY protocol version 2 header a TCP load balancer puts before the client's bytes
// (HAProxy's "send-proxy-v2"; haproxy.org/download/2.8/doc/proxy-protocol.txt §2.2), so the
// receiver's limits, bans and audit see the client, not the balancer (docs/scaling.md). Pure and
// bounded: the fixed part is judged from its first 16 bytes, the rest is never longer than
// MAX_PROXY_HEADER, and nothing is allocated before the length is known.
import { viewOf } from '../bytes.js';

/** \r\n\r\n\0\r\nQUIT\n */
export const PROXY_V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
const FIXED = 16;
/** Addresses plus the TLVs a balancer may add (unique id, TLS details): a kilobyte is ample. */
export const MAX_PROXY_HEADER = 1024;

export type ProxyHeaderResult =
  | { readonly kind: 'need-more' }
  /**
   * length: the bytes the header took. client: the original source; undefined for a LOCAL
   * header (the balancer's own health check). A PROXY header without an IP client is an error.
   */
  | { readonly kind: 'header'; readonly length: number; readonly client: { readonly address: string; readonly port: number } | undefined }
  | { readonly kind: 'error'; readonly detail: string };

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::" (as Node writes it). */
function ipv6(bytes: Uint8Array): string {
  const view = viewOf(bytes);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(view.getUint16(i));
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (best.length < 2) return hex(groups);
  return `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.length))}`;
}

export function decodeProxyHeader(bytes: Uint8Array): ProxyHeaderResult {
  const prefix = Math.min(bytes.length, PROXY_V2_SIGNATURE.length);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== PROXY_V2_SIGNATURE[i]) return { kind: 'error', detail: 'no PROXY protocol v2 signature' };
  }
  if (bytes.length < FIXED) return { kind: 'need-more' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return { kind: 'error', detail: `PROXY protocol version ${versionCommand >> 4}, expected 2` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: 'error', detail: `unknown PROXY command ${command}` };
  const family = bytes[13]! >> 4;
  const transport = bytes[13]! & 0x0f;
  const length = viewOf(bytes).getUint16(14);
  if (FIXED + length > MAX_PROXY_HEADER)
    return { kind: 'error', detail: `PROXY header of ${FIXED + length} bytes, limit ${MAX_PROXY_HEADER}` };
  const needs = family === 1 ? 12 : family === 2 ? 36 : family === 3 ? 216 : 0;
  if (family > 3) return { kind: 'error', detail: `unknown PROXY address family ${family}` };
  if (length < needs) return { kind: 'error', detail: `PROXY header length ${length} too short for address family ${family}` };
  if (command === 1 && (family === 1 || family === 2) && transport !== 1)
    return { kind: 'error', detail: `PROXY transport ${transport}, expected STREAM` };
  if (bytes.length < FIXED + length) return { kind: 'need-more' };
  // LOCAL: the balancer speaks for itself (a health check); addresses, if any, are ignored.
  if (command === 0) return { kind: 'header', length: FIXED + length, client: undefined };
  // A client the balancer cannot name (UNSPEC, a unix socket) would count as the balancer.
  if (family === 0 || family === 3) return { kind: 'error', detail: `a PROXY header without an IP client (address family ${family})` };
  const body = bytes.subarray(FIXED, FIXED + length);
  const view = viewOf(body);
  if (family === 1) {
    return {
      kind: 'header',
      length: FIXED + length,
      client: { address: `${body[0]}.${body[1]}.${body[2]}.${body[3]}`, port: view.getUint16(8) },
    };
  }
  const address = ipv6(body.subarray(0, 16));
  // An IPv4 client of an IPv6 listener arrives as ::ffff:a.b.c.d; say it the IPv4 way.
  const mapped = /^::ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(address);
  const shown = mapped ? [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)].flatMap((g) => [g >> 8, g & 255]).join('.') : address;
  return { kind: 'header', length: FIXED + length, client: { address: shown, port: view.getUint16(32) } };
}
