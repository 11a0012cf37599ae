// The primitives Noise_25519_AESGCM_SHA256 needs (Noise §4), synchronous so the handshake and
// record code stay pure. Adapters: node:crypto, @noble, and node:crypto with AES-GCM through our
// OpenSSL binding; each is run through the same contract tests.

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

export interface CryptoPrimitives {
  /** Names the implementation in logs and benchmarks. */
  readonly name: string;
  generateKeyPair(): KeyPair;
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
  /** X25519. Throws when the result is all zeros (a low-order peer key): Noise §12.1 allows refusing it. */
  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /**
   * AES-256-GCM; returns ciphertext followed by the 16-byte tag. With into the result is always
   * written there and returned as the view of its first bytes, so the record layer seals straight
   * into its outgoing buffer. into must be at least 16 bytes longer than plaintext and may not
   * overlap ad, nor plaintext other than exactly in place; anything else throws (checkedOutput).
   */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array;
  /**
   * Returns undefined when authentication fails; never returns unauthenticated bytes. With into
   * the plaintext is always written there and returned as the view of its first bytes, so a
   * record is opened straight into a piece's body; after a failure into holds no plaintext
   * (zeroes, or what it held before). into must hold at least ciphertext.length - 16 bytes, with
   * the same overlap rules as seal's.
   */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined;
  /**
   * The key is about to be zeroed and never used again: drop anything kept for it (a native key
   * schedule). Adapters that keep nothing do nothing.
   */
  forgetKey(key: Uint8Array): void;
  /** Passed around as a plain function, so it may not depend on this. */
  sha256(this: void, data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  randomBytes(length: number): Uint8Array;
}
