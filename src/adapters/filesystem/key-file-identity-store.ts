// A static identity kept in a file readable only by its owner (mode 0600), like an SSH host key.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fromHex, toHex } from '../../domain/bytes.js';
import { SecureTransferError } from '../../domain/errors.js';
import type { CryptoPrimitives, KeyPair } from '../../domain/ports/crypto-primitives.js';
import type { IdentityStore } from '../../domain/ports/identity-store.js';

const KIND = 'securetransfer-x25519-identity';

export class KeyFileIdentityStore implements IdentityStore {
  constructor(
    private readonly path: string,
    private readonly crypto: CryptoPrimitives,
  ) {}

  async loadOrCreate(): Promise<{ keyPair: KeyPair; created: boolean; path: string }> {
    let text: string | undefined;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SecureTransferError('E_IO', `cannot read the key ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    if (text !== undefined) {
      let privateKey: Uint8Array;
      try {
        const parsed = JSON.parse(text) as { kind?: string; privateKey?: string };
        if (parsed.kind !== KIND || typeof parsed.privateKey !== 'string') throw new Error(`not a ${KIND} file`);
        privateKey = fromHex(parsed.privateKey);
        if (privateKey.length !== 32) throw new Error('the private key is not 32 bytes');
      } catch (e) {
        throw new SecureTransferError('E_CONFIG', `the key file ${this.path} is unreadable: ${(e as Error).message}`);
      }
      return { keyPair: { privateKey, publicKey: this.crypto.publicKeyOf(privateKey) }, created: false, path: this.path };
    }
    const keyPair = this.crypto.generateKeyPair();
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      // 'wx': never replace a key another process wrote meanwhile.
      await writeFile(this.path, `${JSON.stringify({ kind: KIND, version: 1, privateKey: toHex(keyPair.privateKey) })}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return this.loadOrCreate();
      throw new SecureTransferError('E_IO', `cannot write the key ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    return { keyPair, created: true, path: this.path };
  }
}
