// Use case: keygen (docs/requirements.md#command-line). A fresh X25519 keypair, its private half sealed under a password.
import { SecureTransferError } from '../domain/errors.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import type { CryptoPrimitives } from '../domain/ports/crypto-primitives.js';
import type { IdentityKeyWriter } from '../domain/ports/identity-store.js';

/** Short passwords fall to guessing however slow the KDF is. */
export const MIN_PASSWORD_LENGTH = 8;

export interface MadeIdentityKey {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly publicKeyLine: string;
  readonly fingerprint: string;
}

export class MakeIdentityKey {
  constructor(
    private readonly crypto: CryptoPrimitives,
    private readonly writer: IdentityKeyWriter,
  ) {}

  async execute(password: string): Promise<MadeIdentityKey> {
    if ([...password].length < MIN_PASSWORD_LENGTH) {
      throw new SecureTransferError('E_USAGE', `the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const keyPair = this.crypto.generateKeyPair();
    try {
      const written = await this.writer.writeSealed(keyPair, password);
      return { ...written, fingerprint: fingerprintOf(keyPair.publicKey, this.crypto.sha256) };
    } finally {
      keyPair.privateKey.fill(0);
    }
  }
}
