// A public key's fingerprint, as OpenSSH shows them: "SHA256:" and unpadded base64 of the hash.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64NoPad(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** sha256 is the CryptoPrimitives hash, passed in so the domain stays free of I/O and packages. */
export function fingerprintOf(publicKey: Uint8Array, sha256: (data: Uint8Array) => Uint8Array): string {
  return `SHA256:${base64NoPad(sha256(publicKey))}`;
}
