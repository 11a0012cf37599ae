// CryptoPrimitives whose AES-256-GCM runs through our own small N-API binding to the OpenSSL
// inside Node.js (native/openssl_aead.c, compiled from source at install); X25519, SHA-256 and
// randomness stay on node:crypto, the same OpenSSL. The default (ST_CRYPTO=openssl) because the
// records are the hot path: node:crypto builds a cipher object and a fresh output buffer per
// 64 KiB record, about 1 GB/s here, where the binding reuses one context per key and writes into
// the caller's buffer at about 3 GB/s (bench/crypto.ts; README "Performance").
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { SecureTransferError } from '../../domain/errors.js';
import { NodeCryptoPrimitives } from './node-crypto-primitives.js';

const TAG_LENGTH = 16;
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
    if (into && into.length < length) throw new RangeError('seal: output buffer too small');
    const out = this.output(into, plaintext, ad, length);
    const written = this.binding.seal(this.contextFor(key), key, nonce, ad, plaintext, out);
    return this.delivered(out, into, written);
  }

  override open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length < TAG_LENGTH) return undefined;
    const length = ciphertext.length - TAG_LENGTH;
    if (into && into.length < length) throw new RangeError('open: output buffer too small');
    const out = this.output(into, ciphertext, ad, length);
    const got = this.binding.open(this.contextFor(key), key, nonce, ad, ciphertext, out);
    return got < 0 ? undefined : this.delivered(out, into, got);
  }

  override forgetKey(key: Uint8Array): void {
    const context = this.contexts.get(key);
    if (context === undefined) return;
    this.binding.wipe(context);
    this.contexts.delete(key);
  }

  /**
   * Where the binding writes: into itself, unless into overlaps the input other than exactly on
   * it (in place is fine) or overlaps the associated data, which the binding refuses; then a
   * new array, copied over afterwards, so the port's promise holds for any caller.
   */
  private output(into: Uint8Array | undefined, input: Uint8Array, ad: Uint8Array, length: number): Uint8Array {
    const usable = into && !(overlaps(into, input) && into.byteOffset !== input.byteOffset) && !overlaps(into, ad);
    return usable ? into.subarray(0, length) : new Uint8Array(length);
  }

  private delivered(out: Uint8Array, into: Uint8Array | undefined, length: number): Uint8Array {
    if (!into || out.buffer === into.buffer) return out.subarray(0, length);
    into.set(out.subarray(0, length));
    out.fill(0); // the detour held plaintext too
    return into.subarray(0, length);
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

/** True when a and b share at least one byte of memory. */
function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
