import { gcm } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { checkedOutput } from '../../domain/bytes.js';
import { AEAD_TAG_LENGTH as TAG_LENGTH } from '../../domain/limits.js';
import type { CryptoPrimitives, KeyPair } from '../../domain/ports/crypto-primitives.js';

/** CryptoPrimitives in audited pure JavaScript (@noble): selectable with ST_CRYPTO=noble. */
export class NobleCryptoPrimitives implements CryptoPrimitives {
  readonly name = 'noble';

  generateKeyPair(): KeyPair {
    const privateKey = x25519.utils.randomSecretKey();
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  }

  publicKeyOf(privateKey: Uint8Array): Uint8Array {
    return x25519.getPublicKey(privateKey);
  }

  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    // noble rejects low-order peer keys (an all-zero result) by throwing.
    return x25519.getSharedSecret(privateKey, publicKey);
  }

  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
    const out = into && checkedOutput('seal', into, plaintext.length + TAG_LENGTH, plaintext, ad);
    const sealed = gcm(key, nonce, ad).encrypt(plaintext);
    if (!out) return sealed;
    out.set(sealed);
    return out;
  }

  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    if (ciphertext.length < TAG_LENGTH) return undefined;
    const out = into && checkedOutput('open', into, ciphertext.length - TAG_LENGTH, ciphertext, ad);
    let plaintext: Uint8Array;
    try {
      plaintext = gcm(key, nonce, ad).decrypt(ciphertext);
    } catch {
      return undefined;
    }
    if (!out) return plaintext;
    out.set(plaintext);
    plaintext.fill(0);
    return out;
  }

  /** @noble keeps nothing per key between calls. */
  forgetKey(_key: Uint8Array): void {}

  // A property, not a method: callers pass it around as a plain function (fingerprints, hashing ahead).
  readonly sha256 = (data: Uint8Array): Uint8Array => {
    return sha256(data);
  };

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(sha256, key, data);
  }

  randomBytes(length: number): Uint8Array {
    return randomBytes(length);
  }
}
