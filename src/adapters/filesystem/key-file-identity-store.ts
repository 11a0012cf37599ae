// A static identity kept in a file readable only by its owner (mode 0600). Two kinds:
// - a host key generated on first use, stored in the clear like an SSH host key (a daemon
//   must start unattended; the file mode is its protection);
// - a key made by keygen, its private half sealed under a password (scrypt + AES-256-GCM),
//   with a .pub file beside it carrying the public key and its fingerprint.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fromHex, toHex, utf8 } from '../../domain/bytes.js';
import { SecureTransferError } from '../../domain/errors.js';
import { fingerprintOf } from '../../domain/fingerprint.js';
import type { CryptoPrimitives, KeyPair } from '../../domain/ports/crypto-primitives.js';
import type { IdentityKeyWriter, IdentityStore } from '../../domain/ports/identity-store.js';
import { openWithPassword, parseSealedSecret, sealWithPassword, type ScryptParams } from '../crypto/password-sealing.js';
import { formatPublicKeyLine } from '../trust/public-key-line.js';

const PLAIN_KIND = 'securetransfer-x25519-identity';
const SEALED_KIND = 'securetransfer-x25519-private-key';

export interface KeyFileOptions {
  /** A default location may get a fresh key; a key the user named must exist. */
  readonly createIfMissing: boolean;
  /** Asked only when the key is sealed. */
  readonly password?: (() => Promise<string>) | undefined;
  /** For tests: cheaper scrypt parameters. */
  readonly scrypt?: ScryptParams;
}

/** The clear parts of a sealed key file are bound to the ciphertext as additional data. */
const sealedAdditionalData = (publicKeyHex: string) => utf8(`${SEALED_KIND} v1 ${publicKeyHex}`);

/**
 * Creates path with the whole text or fails with EEXIST: written to a private temporary name
 * first and linked into place (link(2) never replaces a file), so processes that start together
 * (senders sharing a home) see no key or a whole key, never a half-written one.
 */
async function writeNewFileWhole(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', mode);
  try {
    await file.writeFile(text);
    await file.sync(); // the key's bytes are on disk before its name is
  } finally {
    await file.close();
  }
  try {
    await link(temporary, path);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

export class KeyFileIdentityStore implements IdentityStore, IdentityKeyWriter {
  constructor(
    private readonly path: string,
    private readonly crypto: CryptoPrimitives,
    private readonly options: KeyFileOptions,
  ) {}

  async loadOrCreate(): Promise<{ keyPair: KeyPair; created: boolean; path: string }> {
    let text: string | undefined;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if (!isMissing(e)) throw new SecureTransferError('E_IO', `cannot read the key ${this.path}: ${(e as Error).message}`, { cause: e });
      if (!this.options.createIfMissing)
        throw new SecureTransferError('E_CONFIG', `the key ${this.path} does not exist (make one with \`securetransfer keygen\`)`);
    }
    if (text !== undefined) return { keyPair: await this.parse(text), created: false, path: this.path };
    const keyPair = this.crypto.generateKeyPair();
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      // Never replace a key another process wrote meanwhile, and never let one read half of it.
      await writeNewFileWhole(
        this.path,
        `${JSON.stringify({ kind: PLAIN_KIND, version: 1, privateKey: toHex(keyPair.privateKey) })}\n`,
        0o600,
      );
    } catch (e) {
      keyPair.privateKey.fill(0);
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return this.loadOrCreate();
      throw new SecureTransferError('E_IO', `cannot write the key ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    return { keyPair, created: true, path: this.path };
  }

  async writeSealed(keyPair: KeyPair, password: string): Promise<{ privateKeyPath: string; publicKeyPath: string; publicKeyLine: string }> {
    const publicKey = toHex(keyPair.publicKey);
    const sealed = await sealWithPassword(keyPair.privateKey, password, sealedAdditionalData(publicKey), this.options.scrypt);
    const publicKeyPath = `${this.path}.pub`;
    const publicKeyLine = formatPublicKeyLine(keyPair.publicKey, fingerprintOf(keyPair.publicKey, this.crypto.sha256));
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      await writeNewFileWhole(this.path, `${JSON.stringify({ kind: SEALED_KIND, version: 1, publicKey, ...sealed }, null, 2)}\n`, 0o600);
      await writeFile(publicKeyPath, `${publicKeyLine}\n`, { mode: 0o644, flag: 'wx' });
    } catch (e) {
      const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
      throw new SecureTransferError(
        exists ? 'E_FILE_EXISTS' : 'E_IO',
        exists
          ? `${(e as { dest?: string }).dest ?? (e as { path?: string }).path ?? this.path} already exists; keygen never replaces a key`
          : `cannot write the key ${this.path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return { privateKeyPath: this.path, publicKeyPath, publicKeyLine };
  }

  private async parse(text: string): Promise<KeyPair> {
    let parsed: { kind?: unknown; privateKey?: unknown; publicKey?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new SecureTransferError('E_CONFIG', `the key file ${this.path} is not a SecureTransfer key (not JSON)`);
    }
    let privateKey: Uint8Array;
    if (parsed.kind === PLAIN_KIND && typeof parsed.privateKey === 'string' && /^[0-9a-f]{64}$/.test(parsed.privateKey)) {
      privateKey = fromHex(parsed.privateKey);
    } else if (parsed.kind === SEALED_KIND && typeof parsed.publicKey === 'string' && /^[0-9a-f]{64}$/.test(parsed.publicKey)) {
      const sealed = parseSealedSecret(parsed, `the key file ${this.path}`);
      if (!this.options.password) {
        throw new SecureTransferError(
          'E_BAD_PASSWORD',
          `the key ${this.path} is encrypted: set ST_KEY_PASSWORD or run on a terminal to be asked`,
        );
      }
      const password = await this.options.password();
      privateKey = await openWithPassword(sealed, password, sealedAdditionalData(parsed.publicKey), `the key ${this.path}`);
      if (privateKey.length !== 32)
        throw new SecureTransferError('E_CONFIG', `the key file ${this.path} holds a key of ${privateKey.length} bytes`);
      if (toHex(this.crypto.publicKeyOf(privateKey)) !== parsed.publicKey) {
        privateKey.fill(0);
        throw new SecureTransferError(
          'E_CONFIG',
          `the key file ${this.path} is inconsistent: its private key does not match its public key`,
        );
      }
    } else {
      throw new SecureTransferError('E_CONFIG', `the key file ${this.path} is not a SecureTransfer key (unknown kind or malformed key)`);
    }
    return { privateKey, publicKey: this.crypto.publicKeyOf(privateKey) };
  }
}
