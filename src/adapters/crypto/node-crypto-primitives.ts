import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomFillSync,
  type KeyObject,
} from 'node:crypto';
import { checkedOutput } from '../../domain/bytes.js';
import { AEAD_TAG_LENGTH } from '../../domain/limits.js';
import type { CryptoPrimitives, KeyPair } from '../../domain/ports/crypto-primitives.js';

// RFC 8410 DER headers that wrap a raw 32-byte X25519 key, so node:crypto can take raw keys.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
  // Its own memory, zeroed after use: Buffer.concat would put the key into Node's shared 8 KiB
  // pool, where it stays until other buffers happen to overwrite it.
  const der = new Uint8Array(PKCS8_X25519_PREFIX.length + 32);
  der.set(PKCS8_X25519_PREFIX);
  der.set(raw, PKCS8_X25519_PREFIX.length);
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('X25519 public key must be 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function copy(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
}

/** CryptoPrimitives on node:crypto (OpenSSL): the fast default (~50x noble for AES-GCM, README "Performance"). */
export class NodeCryptoPrimitives implements CryptoPrimitives {
  readonly name: string = 'node';

  generateKeyPair(): KeyPair {
    const privateKey = randomFillSync(new Uint8Array(32)); // straight into its own memory, no copy left behind
    return { privateKey, publicKey: this.publicKeyOf(privateKey) };
  }

  publicKeyOf(privateKey: Uint8Array): Uint8Array {
    const der = createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
    return copy(der.subarray(SPKI_X25519_PREFIX.length));
  }

  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    // OpenSSL refuses an all-zero shared secret (a low-order point) by throwing, as Noise §12.1 allows.
    const shared = diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) });
    const out = copy(shared);
    shared.fill(0);
    return out;
  }

  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
    // GCM is a stream mode: the ciphertext is as long as the plaintext, then the tag.
    const length = plaintext.length + AEAD_TAG_LENGTH;
    const out = into ? checkedOutput('seal', into, length, plaintext, ad) : new Uint8Array(length);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(ad);
    const body = cipher.update(plaintext);
    const final = cipher.final();
    out.set(body, 0);
    out.set(final, body.length);
    out.set(cipher.getAuthTag(), body.length + final.length);
    return out;
  }

  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length < AEAD_TAG_LENGTH) return undefined;
    const length = ciphertext.length - AEAD_TAG_LENGTH;
    const out = into && checkedOutput('open', into, length, ciphertext, ad);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(ad);
    decipher.setAuthTag(ciphertext.subarray(length));
    const body = decipher.update(ciphertext.subarray(0, length));
    try {
      decipher.final();
    } catch {
      body.fill(0);
      return undefined;
    }
    if (!out) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    out.set(body);
    body.fill(0);
    return out;
  }

  /** node:crypto keeps nothing per key between calls. */
  forgetKey(_key: Uint8Array): void {}

  // A property, not a method: callers pass it around as a plain function (fingerprints, hashing ahead).
  readonly sha256 = (data: Uint8Array): Uint8Array => {
    return copy(createHash('sha256').update(data).digest());
  };

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    // HKDF's outputs are the chaining and transport keys: the digest Buffer is wiped once copied.
    const digest = createHmac('sha256', key).update(data).digest();
    const out = copy(digest);
    digest.fill(0);
    return out;
  }

  randomBytes(length: number): Uint8Array {
    return randomFillSync(new Uint8Array(length));
  }
}
