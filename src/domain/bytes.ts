// Byte helpers shared by the wire codecs and the Noise code. Pure: no Node Buffer.

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Compares in time that depends only on the lengths, never on where the bytes differ (docs/requirements.md#pieces). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function zeroize(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError('fromHex: not an even-length hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Big-endian unsigned 64-bit write of a safe integer (values above 2^53 are refused upstream). */
export function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / 0x1_0000_0000));
  view.setUint32(at + 4, value >>> 0);
}

/** Big-endian 64-bit read; returns undefined when the value would not be a safe integer. */
export function readU64(view: DataView, at: number): number | undefined {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if (hi > 0x1f_ffff) return undefined;
  return hi * 0x1_0000_0000 + lo;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF stays in the text, so a name that starts with one is refused rather than
// silently repaired (docs/defences.md#names).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Strict UTF-8 decode: invalid sequences yield undefined instead of replacement characters. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether two views share at least one byte of memory. */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Checks a caller's output buffer against the crypto port's contract (CryptoPrimitives.seal and
 * open) and returns the view of length bytes at its start, where the result must be written. As
 * with @noble's checked outputs, a wrong buffer is a programming error and throws, naming what
 * is wrong; it is never worked around with a copy. The output may hold the input exactly in place
 * (the same first byte), but may not overlap it otherwise, nor the associated data.
 */
export function checkedOutput(operation: string, into: Uint8Array, length: number, input: Uint8Array, ad: Uint8Array): Uint8Array {
  if (!(into instanceof Uint8Array)) throw new TypeError(`${operation}: the output buffer must be a Uint8Array`);
  if (into.length < length) throw new RangeError(`${operation}: the output buffer holds ${into.length} bytes, ${length} are needed`);
  const out = into.subarray(0, length);
  if (overlaps(out, ad)) throw new RangeError(`${operation}: the output buffer overlaps the associated data`);
  if (overlaps(out, input) && out.byteOffset !== input.byteOffset) {
    throw new RangeError(`${operation}: the output buffer overlaps the input without starting where it starts (only in place is allowed)`);
  }
  return out;
}
