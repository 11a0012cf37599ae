// The PROXY protocol v2 decoder: headers as HAProxy writes them, cut at any byte, and hostile
// bytes, which it refuses from the header alone without allocating (docs/scaling.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeProxyHeader, MAX_PROXY_HEADER, PROXY_V2_SIGNATURE } from '../../src/domain/wire/proxy-header.js';

/** A v2 header: PROXY (or LOCAL), STREAM, the given family's addresses and optional TLV bytes. */
function header(o: {
  command?: number;
  family: 1 | 2;
  src: number[];
  dst: number[];
  srcPort: number;
  dstPort: number;
  tlv?: Uint8Array;
}): Uint8Array {
  const addrs = Uint8Array.from([...o.src, ...o.dst]);
  const tlv = o.tlv ?? new Uint8Array(0);
  const length = addrs.length + 4 + tlv.length;
  const out = new Uint8Array(16 + length);
  out.set(PROXY_V2_SIGNATURE);
  out[12] = 0x20 | (o.command ?? 1);
  out[13] = (o.family << 4) | 1;
  new DataView(out.buffer).setUint16(14, length);
  out.set(addrs, 16);
  new DataView(out.buffer).setUint16(16 + addrs.length, o.srcPort);
  new DataView(out.buffer).setUint16(18 + addrs.length, o.dstPort);
  out.set(tlv, 20 + addrs.length);
  return out;
}

describe('PROXY protocol v2 header', () => {
  it('reads an IPv4 client and the length the header took', () => {
    const h = header({ family: 1, src: [203, 0, 113, 7], dst: [10, 0, 0, 1], srcPort: 51234, dstPort: 9000 });
    const withData = Uint8Array.from([...h, 0x01, 0x02]);
    assert.deepEqual(decodeProxyHeader(withData), { kind: 'header', length: 28, client: { address: '203.0.113.7', port: 51234 } });
  });

  it('reads an IPv6 client in the form Node and URLs write it, and an IPv4-mapped one as IPv4', () => {
    const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert.deepEqual(decodeProxyHeader(header({ family: 2, src: v6, dst: v6, srcPort: 1, dstPort: 2 })), {
      kind: 'header',
      length: 52,
      client: { address: '2001:db8::1', port: 1 },
    });
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9];
    assert.deepEqual(
      decodeProxyHeader(header({ family: 2, src: mapped, dst: v6, srcPort: 7, dstPort: 2 })).kind === 'header' &&
        decodeProxyHeader(header({ family: 2, src: mapped, dst: v6, srcPort: 7, dstPort: 2 })),
      {
        kind: 'header',
        length: 52,
        client: { address: '198.51.100.9', port: 7 },
      },
    );
  });

  it('writes any IPv6 address exactly as the URL parser normalises it (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
        if (groups.slice(0, 6).every((g) => g === 0) || (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)) return; // mapped and compatible forms
        const src = groups.flatMap((g) => [g >> 8, g & 255]);
        const r = decodeProxyHeader(header({ family: 2, src, dst: src, srcPort: 1, dstPort: 1 }));
        assert.equal(r.kind, 'header');
        const expected = new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
        assert.equal(r.kind === 'header' && r.client?.address, expected);
      }),
    );
  });

  it('skips TLVs and takes a LOCAL header (a health check) as having no client', () => {
    const tlv = Uint8Array.of(0x05, 0x00, 0x03, 0x61, 0x62, 0x63); // PP2_TYPE_UNIQUE_ID "abc"
    const h = header({ family: 1, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], srcPort: 1, dstPort: 2, tlv });
    assert.deepEqual(decodeProxyHeader(h), { kind: 'header', length: h.length, client: { address: '1.2.3.4', port: 1 } });
    const local = header({ command: 0, family: 1, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], srcPort: 1, dstPort: 2 });
    assert.deepEqual(decodeProxyHeader(local), { kind: 'header', length: local.length, client: undefined });
  });

  it('refuses a PROXY header that names no IP client (UNSPEC, UNIX): it would count as the balancer', () => {
    for (const family of [0x00, 0x30]) {
      const h = new Uint8Array(16 + 216);
      h.set(PROXY_V2_SIGNATURE);
      h[12] = 0x21;
      h[13] = family | 1;
      new DataView(h.buffer).setUint16(14, 216);
      const r = decodeProxyHeader(h);
      assert.equal(r.kind, 'error');
      assert.match(r.kind === 'error' ? r.detail : '', /without an IP client/);
    }
  });

  it('needs more until the last byte of the header, whatever the cut (property)', () => {
    const h = header({
      family: 2,
      src: new Array<number>(16).fill(1),
      dst: new Array<number>(16).fill(2),
      srcPort: 3,
      dstPort: 4,
      tlv: new Uint8Array(40),
    });
    for (let cut = 0; cut < h.length; cut++)
      assert.deepEqual(decodeProxyHeader(h.subarray(0, cut)), { kind: 'need-more' }, `cut at ${cut}`);
    assert.equal(decodeProxyHeader(h).kind, 'header');
  });

  const refusals: [string, (h: Uint8Array) => void, RegExp][] = [
    ['a wrong signature', (h) => (h[3] = 0x00), /signature/],
    ['version 1', (h) => (h[12] = 0x11), /version 1/],
    ['an unknown command', (h) => (h[12] = 0x22), /command/],
    ['an unknown family', (h) => (h[13] = 0x41), /family/],
    ['a DGRAM transport', (h) => (h[13] = 0x12), /transport/],
    ['a length too short for its addresses', (h) => new DataView(h.buffer).setUint16(14, 11), /too short/],
    ['a length above the bound', (h) => new DataView(h.buffer).setUint16(14, 65535), /limit/],
  ];
  for (const [what, spoil, reason] of refusals) {
    it(`refuses ${what} from the header alone`, () => {
      const h = header({ family: 1, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], srcPort: 1, dstPort: 2 });
      spoil(h);
      const r = decodeProxyHeader(h.subarray(0, 16));
      assert.equal(r.kind, 'error');
      assert.match(r.kind === 'error' ? r.detail : '', reason);
    });
  }

  it('refuses the handshake bytes of a client that speaks to it directly at the first byte', () => {
    assert.equal(decodeProxyHeader(Uint8Array.of(0x01)).kind, 'error');
  });

  it('never throws on random bytes and never takes more than its bound (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (tail, signed) => {
        const bytes = signed ? Uint8Array.from([...PROXY_V2_SIGNATURE, ...tail]) : tail;
        const r = decodeProxyHeader(bytes);
        if (r.kind === 'header') assert.ok(r.length <= MAX_PROXY_HEADER && r.length <= bytes.length);
      }),
    );
  });
});
