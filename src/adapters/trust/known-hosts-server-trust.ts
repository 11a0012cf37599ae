// docs/requirements.md#trust: the sender pins the receiver's static key. Trust on first use is recorded in a
// known-hosts file ("host:port SHA256:..." a line); a different key later is refused loudly.
// An expected fingerprint given on the command line is checked before anything else.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { constantTimeEqual, utf8 } from '../../domain/bytes.js';
import { SecureTransferError } from '../../domain/errors.js';
import { fingerprintOf } from '../../domain/fingerprint.js';
import type { CryptoPrimitives } from '../../domain/ports/crypto-primitives.js';
import type { ServerTrust } from '../../domain/ports/server-trust.js';

export class KnownHostsServerTrust implements ServerTrust {
  constructor(
    private readonly path: string,
    private readonly crypto: CryptoPrimitives,
    private readonly expectedFingerprint?: string,
  ) {}

  async check(host: string, port: number, serverKey: Uint8Array): Promise<{ fingerprint: string; note?: string }> {
    const fingerprint = fingerprintOf(serverKey, this.crypto.sha256);
    const hostKey = `${host}:${port}`;
    if (this.expectedFingerprint !== undefined && !constantTimeEqual(utf8(this.expectedFingerprint), utf8(fingerprint))) {
      throw new SecureTransferError(
        'E_UNTRUSTED_KEY',
        `${hostKey} presented key ${fingerprint}, but --server-key expects ${this.expectedFingerprint}. Nothing was sent.`,
      );
    }
    const known = await this.lookup(hostKey);
    if (known !== undefined) {
      if (!constantTimeEqual(utf8(known), utf8(fingerprint))) {
        throw new SecureTransferError(
          'E_UNTRUSTED_KEY',
          `WARNING: the key of ${hostKey} has changed! It presented ${fingerprint}, but ${this.path} records ${known}. ` +
            'Someone may be intercepting the connection (man in the middle), or the receiver got a new key. ' +
            `Nothing was sent. If the change is expected, remove the line for ${hostKey} from ${this.path}.`,
        );
      }
      return { fingerprint };
    }
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await appendFile(this.path, `${hostKey} ${fingerprint}\n`, { mode: 0o600 });
    return { fingerprint, note: `first contact with ${hostKey}: recorded its key ${fingerprint} in ${this.path}` };
  }

  private async lookup(hostKey: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SecureTransferError('E_IO', `cannot read ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    for (const line of text.split('\n')) {
      const [name, fingerprint] = line.trim().split(/\s+/);
      if (name === hostKey && fingerprint) return fingerprint;
    }
    return undefined;
  }
}
