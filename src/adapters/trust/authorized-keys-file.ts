// docs/requirements.md#trust: the receiver may restrict senders to an allow-list of client keys, one per line
// like OpenSSH's authorized_keys: a public key line from keygen's .pub file, or a fingerprint
// ("SHA256:..."), each optionally followed by a comment; '#' starts a comment line.
// The file is read again for every handshake, so an edit applies to the next connection
// without a restart; a file that cannot be read refuses everyone (fail closed).
import { readFile } from 'node:fs/promises';
import type { ClientAuthorization } from '../../domain/ports/client-authorization.js';
import { constantTimeEqual } from '../../domain/bytes.js';
import { SecureTransferError } from '../../domain/errors.js';
import type { CryptoPrimitives } from '../../domain/ports/crypto-primitives.js';
import { parsePublicKeyLine } from './public-key-line.js';

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})$/;

export class AuthorizedKeysFile implements ClientAuthorization {
  private count = 0;

  constructor(
    private readonly path: string,
    private readonly crypto: CryptoPrimitives,
  ) {}

  /** The SHA-256 of every listed key; throws E_CONFIG naming the file and line of a bad entry. */
  async load(): Promise<Uint8Array[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      throw new SecureTransferError('E_CONFIG', `cannot read the authorized keys file ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    const digests: Uint8Array[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const first = line.split(/\s+/)[0]!;
      const fingerprint = FINGERPRINT.exec(first);
      if (fingerprint) {
        digests.push(new Uint8Array(Buffer.from(fingerprint[1]!, 'base64')));
        return;
      }
      const parsed = parsePublicKeyLine(line);
      if ('problem' in parsed) throw new SecureTransferError('E_CONFIG', `${this.path}:${i + 1}: ${parsed.problem}`);
      digests.push(this.crypto.sha256(parsed.publicKey));
    });
    this.count = digests.length;
    return digests;
  }

  async allows(clientKey: Uint8Array): Promise<boolean> {
    const digest = this.crypto.sha256(clientKey);
    let found = false;
    // Every entry is compared, in constant time each, so timing says nothing about the list.
    for (const listed of await this.load()) found = constantTimeEqual(listed, digest) || found;
    return found;
  }

  describe(): string {
    return `only the ${this.count} client key(s) listed in ${this.path} may send`;
  }
}
