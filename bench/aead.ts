// The record layer's AES-256-GCM per CryptoPrimitives adapter: 64 KiB records sealed and opened
// the way a session does (one key array, a new nonce per record, output into a reused buffer),
// for about half a second each. This is what chose ST_CRYPTO's default.
import { NobleCryptoPrimitives } from '../src/adapters/crypto/noble-crypto-primitives.js';
import { NodeCryptoPrimitives } from '../src/adapters/crypto/node-crypto-primitives.js';
import { OpenSslAeadCryptoPrimitives } from '../src/adapters/crypto/openssl-aead-crypto-primitives.js';
import { AEAD_TAG_LENGTH, MAX_RECORD_PLAINTEXT } from '../src/domain/limits.js';
import type { CryptoPrimitives } from '../src/domain/ports/crypto-primitives.js';

export interface AeadFigures {
  readonly adapter: string;
  readonly sealMBps: number;
  readonly openMBps: number;
}

function timed(seconds: number, step: (i: number) => void): number {
  const start = process.hrtime.bigint();
  let records = 0;
  while (Number(process.hrtime.bigint() - start) < seconds * 1e9) {
    for (let k = 0; k < 16; k++) step(records++);
  }
  return (records * MAX_RECORD_PLAINTEXT) / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9);
}

function measureAdapter(crypto: CryptoPrimitives, seconds: number): AeadFigures {
  const key = crypto.randomBytes(32);
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  const ad = new Uint8Array(0);
  const plaintext = crypto.randomBytes(MAX_RECORD_PLAINTEXT);
  const sealed = new Uint8Array(MAX_RECORD_PLAINTEXT + AEAD_TAG_LENGTH);
  const opened = new Uint8Array(MAX_RECORD_PLAINTEXT);
  const sealMBps = timed(seconds, (i) => {
    view.setUint32(8, i);
    crypto.seal(key, nonce, ad, plaintext, sealed);
  });
  view.setUint32(8, 0);
  crypto.seal(key, nonce, ad, plaintext, sealed);
  const openMBps = timed(seconds, () => {
    if (!crypto.open(key, nonce, ad, sealed, opened)) throw new Error(`${crypto.name}: a record failed to open`);
  });
  crypto.forgetKey(key);
  return { adapter: crypto.name, sealMBps, openMBps };
}

export function aeadFigures(seconds = 0.5): AeadFigures[] {
  return [new OpenSslAeadCryptoPrimitives(), new NodeCryptoPrimitives(), new NobleCryptoPrimitives()].map((c) =>
    measureAdapter(c, seconds),
  );
}
