// Seals a secret under a password (docs/requirements.md#command-line: keygen): scrypt from @noble/hashes stretches the
// password, AES-256-GCM from @noble/ciphers seals the secret. The parameters travel with the
// sealed value so they can be raised later without breaking old files.
import { gcm } from '@noble/ciphers/aes.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { fromHex, toHex, utf8 } from '../../domain/bytes.js';
import { SecureTransferError } from '../../domain/errors.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two; memory used is 128 * N * r bytes. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** About one second and 128 MiB here (measured), OWASP's recommended minimum for scrypt. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
/** Bounds for parameters read from a file, so a crafted file cannot exhaust memory. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 1024 * 1024 * 1024 + 4096;

export interface SealedSecret {
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  readonly cipher: { readonly name: 'aes-256-gcm'; readonly nonce: string };
  /** Hex of ciphertext and tag. */
  readonly sealed: string;
}

async function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  // NFC so the same password typed on two systems derives the same key.
  const secret = utf8(password.normalize('NFC'));
  try {
    return await scryptAsync(secret, salt, { ...params, dkLen: 32, maxmem: MAX_MEMORY });
  } finally {
    secret.fill(0);
  }
}

/** additionalData binds the file's clear parts (kind, public key) to the sealed secret. */
export async function sealWithPassword(
  secret: Uint8Array,
  password: string,
  additionalData: Uint8Array,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<SealedSecret> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const key = await deriveKey(password, salt, params);
  try {
    const sealed = gcm(key, nonce, additionalData).encrypt(secret);
    return {
      kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: toHex(salt) },
      cipher: { name: 'aes-256-gcm', nonce: toHex(nonce) },
      sealed: toHex(sealed),
    };
  } finally {
    key.fill(0);
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;
}

/** Checks the shape and bounds of a sealed value read from a file; throws E_CONFIG naming what is wrong. */
export function parseSealedSecret(value: unknown, where: string): SealedSecret {
  const bad = (what: string) => new SecureTransferError('E_CONFIG', `${where}: ${what}`);
  const v = value as Partial<SealedSecret> | undefined;
  const kdf = v?.kdf;
  if (!kdf || kdf.name !== 'scrypt') throw bad('the key derivation is not scrypt');
  if (!isPowerOfTwo(kdf.N) || kdf.N > MAX_N) throw bad(`scrypt N=${String(kdf.N)} is not a power of two up to ${MAX_N}`);
  if (!Number.isInteger(kdf.r) || kdf.r < 1 || kdf.r > MAX_R) throw bad(`scrypt r=${String(kdf.r)} is outside 1..${MAX_R}`);
  if (!Number.isInteger(kdf.p) || kdf.p < 1 || kdf.p > MAX_P) throw bad(`scrypt p=${String(kdf.p)} is outside 1..${MAX_P}`);
  if (128 * kdf.N * kdf.r > MAX_MEMORY) throw bad('scrypt parameters need more than 1 GiB of memory');
  if (typeof kdf.salt !== 'string' || !/^([0-9a-f]{2}){16,64}$/.test(kdf.salt)) throw bad('the salt is not 16 to 64 bytes of hex');
  if (v.cipher?.name !== 'aes-256-gcm' || typeof v.cipher.nonce !== 'string' || !/^[0-9a-f]{24}$/.test(v.cipher.nonce)) {
    throw bad('the cipher is not aes-256-gcm with a 12-byte nonce');
  }
  if (typeof v.sealed !== 'string' || !/^([0-9a-f]{2}){17,1024}$/.test(v.sealed))
    throw bad('the sealed key is not hex of a plausible length');
  return v as SealedSecret;
}

/** Opens a sealed secret; a wrong password (or a damaged file) is E_BAD_PASSWORD. */
export async function openWithPassword(
  sealed: SealedSecret,
  password: string,
  additionalData: Uint8Array,
  where: string,
): Promise<Uint8Array> {
  const key = await deriveKey(password, fromHex(sealed.kdf.salt), sealed.kdf);
  try {
    return gcm(key, fromHex(sealed.cipher.nonce), additionalData).decrypt(fromHex(sealed.sealed));
  } catch {
    throw new SecureTransferError('E_BAD_PASSWORD', `wrong password for ${where} (or the file is damaged)`);
  } finally {
    key.fill(0);
  }
}
