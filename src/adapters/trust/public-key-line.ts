// The text form of a public key, one line as in OpenSSH's .pub and authorized_keys files:
//   securetransfer-x25519 <base64 of the 32-byte key> [comment]
export const PUBLIC_KEY_KIND = 'securetransfer-x25519';

export function formatPublicKeyLine(publicKey: Uint8Array, comment: string): string {
  return `${PUBLIC_KEY_KIND} ${Buffer.from(publicKey).toString('base64')} ${comment}`.trimEnd();
}

/** The 32-byte key of a public key line, or a reason it is not one. */
export function parsePublicKeyLine(line: string): { publicKey: Uint8Array } | { problem: string } {
  const [kind, encoded] = line.trim().split(/\s+/);
  if (kind !== PUBLIC_KEY_KIND) return { problem: `expected "${PUBLIC_KEY_KIND} <key>" or "SHA256:<fingerprint>"` };
  if (encoded === undefined || !/^[A-Za-z0-9+/]{43}=$/.test(encoded)) return { problem: 'the key is not 32 bytes of base64' };
  return { publicKey: new Uint8Array(Buffer.from(encoded, 'base64')) };
}
