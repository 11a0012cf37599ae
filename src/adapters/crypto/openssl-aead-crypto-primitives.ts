// CryptoPrimitives whose AES-256-GCM runs through our own small N-API binding to the OpenSSL
// inside Node.js (native/openssl_aead.c, compiled from source at install); X25519, SHA-256 and
// randomness stay on node:crypto, the same OpenSSL. The default (ST_CRYPTO=openssl) because the
// records are the hot path: node:crypto builds a cipher object and a fresh output buffer per
// 64 KiB record, about 1 GB/s here, where the binding reuses one context per key and writes into
// the caller's buffer at about 3 GB/s (bench/crypto.ts; docs/PERFORMANCE.md).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { checkedOutput } from '../../domain/bytes.js';
import { SecureTransferError } from '../../domain/errors.js';
import { AEAD_TAG_LENGTH as TAG_LENGTH } from '../../domain/limits.js';
import { NodeCryptoPrimitives } from './node-crypto-primitives.js';

const BINDING_FILE = join('build', 'Release', 'openssl_aead.node');

/** An EVP context in native memory, freed (and its key wiped) by the binding's finalizer. */
type NativeContext = { readonly __brand: 'openssl-aead-context' };

interface OpenSslAeadBinding {
  newContext(): NativeContext;
  /** Writes ciphertext and tag into out; returns their length. Throws on bad arguments. */
  seal(context: NativeContext, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): number;
  /** Writes the plaintext into out; returns its length, or -1 (out zeroed) when authentication fails. */
  open(context: NativeContext, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): number;
  /** Drops the key and its schedule from the context. */
  wipe(context: NativeContext): void;
}

/**
 * The compiled binding of this package: build/Release under the nearest folder with a
 * package.json above this module (dist/src/adapters/crypto and dist/bundle both lead there).
 */
export function findOpenSslAeadBinding(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const candidate = join(dir, BINDING_FILE);
      return existsSync(candidate) ? candidate : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function loadBinding(): OpenSslAeadBinding {
  const path = findOpenSslAeadBinding();
  if (path === undefined) {
    throw new SecureTransferError(
      'E_CONFIG',
      `ST_CRYPTO=openssl needs the native AES-GCM binding (${BINDING_FILE}), which npm install compiles; run "npm rebuild" or set ST_CRYPTO=node`,
    );
  }
  return createRequire(import.meta.url)(path) as OpenSslAeadBinding;
}

export class OpenSslAeadCryptoPrimitives extends NodeCryptoPrimitives {
  override readonly name = 'openssl';
  private readonly binding = loadBinding();
  /**
   * One native context per key object: a Noise cipher state keeps its key in one array for its
   * whole life, so its records reuse the key schedule. The binding compares the key bytes on
   * every call and re-keys if they changed, so a reused array can never pick up a stale key.
   */
  private readonly contexts = new WeakMap<Uint8Array, NativeContext>();

  override seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
    const length = plaintext.length + TAG_LENGTH;
    const out = into ? checkedOutput('seal', into, length, plaintext, ad) : new Uint8Array(length);
    const written = this.binding.seal(this.contextFor(key), key, nonce, ad, plaintext, out);
    return out.subarray(0, written);
  }

  override open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length < TAG_LENGTH) return undefined;
    const length = ciphertext.length - TAG_LENGTH;
    const out = into ? checkedOutput('open', into, length, ciphertext, ad) : new Uint8Array(length);
    const got = this.binding.open(this.contextFor(key), key, nonce, ad, ciphertext, out);
    return got < 0 ? undefined : out.subarray(0, got);
  }

  override forgetKey(key: Uint8Array): void {
    const context = this.contexts.get(key);
    if (context === undefined) return;
    this.binding.wipe(context);
    this.contexts.delete(key);
  }

  private contextFor(key: Uint8Array): NativeContext {
    let context = this.contexts.get(key);
    if (context === undefined) {
      context = this.binding.newContext();
      this.contexts.set(key, context);
    }
    return context;
  }
}
