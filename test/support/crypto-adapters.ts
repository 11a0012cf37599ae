import { NobleCryptoPrimitives } from '../../src/adapters/crypto/noble-crypto-primitives.js';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { OpenSslAeadCryptoPrimitives } from '../../src/adapters/crypto/openssl-aead-crypto-primitives.js';
import type { CryptoPrimitives } from '../../src/domain/ports/crypto-primitives.js';

/** Every CryptoPrimitives adapter; contract suites run once per entry. */
export const cryptoAdapters: readonly CryptoPrimitives[] = [
  new OpenSslAeadCryptoPrimitives(),
  new NodeCryptoPrimitives(),
  new NobleCryptoPrimitives(),
];
