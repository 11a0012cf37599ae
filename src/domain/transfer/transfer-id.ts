import { toHex } from '../bytes.js';

/** A transfer id is 16 random bytes, shown as a UUID (version 4 layout) so people can copy it. */
export function transferIdFromRandom(random: Uint8Array): string {
  if (random.length !== 16) throw new RangeError('transfer id needs 16 random bytes');
  const b = Uint8Array.from(random);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isTransferId(text: string): boolean {
  return UUID.test(text);
}

export function transferIdToBytes(id: string): Uint8Array {
  if (!isTransferId(id)) throw new RangeError(`not a transfer id: ${id}`);
  const hex = id.replaceAll('-', '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function transferIdFromBytes(bytes: Uint8Array): string {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
