// Property tests for every decoder (fast-check): random, truncated and mutated bytes yield
// frames, need-more or a protocol error code, never an exception; sizes are judged from headers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { concatBytes, utf8 } from '../../src/domain/bytes.js';
import { PROLOGUE_TEXT, PROTOCOL_NAME } from '../../src/domain/protocol.js';
import { HandshakeState } from '../../src/domain/noise/handshake-state.js';
import { PATTERNS } from '../../src/domain/noise/patterns.js';
import { decodeManifest, encodeManifest, pieceCountFor, type Manifest } from '../../src/domain/transfer/manifest.js';
import { FrameDecoder } from '../../src/domain/wire/frame-decoder.js';
import { decodeFrame, decodeRefuse, encodeFrame, encodeRefuse, FrameType } from '../../src/domain/wire/frame.js';
import { MessageDecoder } from '../../src/domain/wire/message-decoder.js';
import {
  decodeMessage,
  encodeAccept,
  encodeAck,
  encodeClose,
  encodeNack,
  encodePieceHeader,
  maxAcceptBodyFor,
  MessageType,
  PieceEncoding,
} from '../../src/domain/wire/messages.js';

const frameTypes = [FrameType.HANDSHAKE_INIT, FrameType.HANDSHAKE_RESP, FrameType.HANDSHAKE_FINAL, FrameType.RECORD] as const;
const limits = { maxPieceBody: 49 + 65536, maxAcceptBody: 16 };

describe('frame codec', () => {
  it('round-trips frames fed one byte at a time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...frameTypes), fc.uint8Array({ minLength: 48, maxLength: 300 })), { maxLength: 5 }),
        (frames) => {
          const decoder = new FrameDecoder();
          const wire = concatBytes(...frames.map(([t, b]) => encodeFrame(t, b)));
          const out: [number, Uint8Array][] = [];
          for (const byte of wire) {
            decoder.push(Uint8Array.of(byte));
            for (let r = decoder.next(); r.kind === 'frame'; r = decoder.next()) out.push([r.frame.type, Uint8Array.from(r.frame.body)]);
          }
          assert.deepEqual(
            out,
            frames.map(([t, b]) => [t, b]),
          );
        },
      ),
    );
  });

  it('puts frames that span chunks together in one scratch buffer, each right until the next', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 16, maxLength: 400 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 97 }),
        (bodies, step) => {
          const decoder = new FrameDecoder();
          const wire = concatBytes(...bodies.map((b) => encodeFrame(FrameType.RECORD, b)));
          const scratch = new Uint8Array(3 + 400);
          const out: Uint8Array[] = [];
          let viewsOfScratch = 0;
          for (let at = 0; at < wire.length; at += step) {
            decoder.push(wire.subarray(at, at + step));
            for (let r = decoder.next(scratch); r.kind === 'frame'; r = decoder.next(scratch)) {
              if (r.frame.body.buffer === scratch.buffer) viewsOfScratch++;
              out.push(Uint8Array.from(r.frame.body)); // copied before the next frame reuses scratch
            }
          }
          assert.deepEqual(out, bodies);
          // With chunks smaller than a frame, every frame spans chunks and lands in scratch.
          if (step < 19) assert.equal(viewsOfScratch, bodies.length);
        },
      ),
    );
  });

  it('never throws on arbitrary bytes and reports unknown types from the first byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const r = decodeFrame(bytes);
        assert.ok(['frame', 'need-more', 'error'].includes(r.kind));
        if (bytes.length > 0 && !(bytes[0]! >= 1 && bytes[0]! <= 5)) assert.equal(r.kind, 'error');
      }),
    );
  });

  it('carries a REFUSE reason code through a frame, and leaves an unknown number unnamed', () => {
    const r = decodeFrame(encodeRefuse('E_BUSY'));
    assert.equal(r.kind, 'frame');
    if (r.kind === 'frame') {
      assert.equal(r.frame.type, FrameType.REFUSE);
      assert.equal(decodeRefuse(r.frame.body), 'E_BUSY');
    }
    assert.equal(decodeRefuse(Uint8Array.of(0xff, 0xff)), undefined);
  });

  it('refuses a RECORD shorter than a GCM tag from its header alone', () => {
    const r = decodeFrame(Uint8Array.of(FrameType.RECORD, 0, 15));
    assert.equal(r.kind, 'error');
  });
});

describe('ACCEPT', () => {
  it('round-trips any held set with one hash per held piece', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 70 })
          .chain((count) => fc.tuple(fc.constant(count), fc.array(fc.boolean(), { minLength: count, maxLength: count }))),
        ([count, flags]) => {
          const bits = new Uint8Array(Math.ceil(count / 8));
          const hashes: Uint8Array[] = [];
          flags.forEach((on, i) => {
            if (!on) return;
            bits[i >> 3]! |= 0x80 >> (i & 7);
            hashes.push(new Uint8Array(32).fill(i + 1));
          });
          const encoded = encodeAccept(count, bits, hashes);
          assert.ok(encoded.length - 5 <= maxAcceptBodyFor(count));
          const r = decodeMessage(MessageType.ACCEPT, encoded.subarray(5));
          assert.ok(r.ok);
          assert.deepEqual(r.ok && r.value, { type: 'accept', pieceCount: count, held: bits, heldHashes: hashes });
        },
      ),
    );
  });

  it('refuses a hash list that does not match the held bits, and bits past the count', () => {
    const oneHeld = encodeAccept(3, Uint8Array.of(0x80), [new Uint8Array(32)]).subarray(5);
    assert.equal(decodeMessage(MessageType.ACCEPT, oneHeld.subarray(0, oneHeld.length - 1)).ok, false);
    assert.equal(decodeMessage(MessageType.ACCEPT, Uint8Array.of(0, 0, 0, 3, 0x10)).ok, false, 'bit 3 of a 3-piece transfer');
  });
});

describe('message decoder', () => {
  it('refuses an oversized piece from the 5-byte header, before its body exists', () => {
    const decoder = new MessageDecoder();
    decoder.push(Uint8Array.of(0x11, 0xff, 0xff, 0xff, 0xff));
    const r = decoder.next(limits);
    assert.equal(r.kind, 'error');
    if (r.kind === 'error') assert.equal(r.code, 'E_FRAME_TOO_LARGE');
    assert.equal(decoder.buffered, 5, 'nothing beyond the header was buffered');
  });

  it('decodes a stream of messages split at every possible point', () => {
    const piece = concatBytes(
      encodePieceHeader({ index: 7, offset: 7 * 16384, rawLength: 10, encoding: PieceEncoding.ZSTD, hash: new Uint8Array(32).fill(3) }, 4),
      Uint8Array.of(1, 2, 3, 4),
    );
    const stream = concatBytes(encodeAck(1), piece, encodeNack(2, 'E_PIECE_HASH'), encodeClose('E_BUSY', 'busy\nfake log line'));
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new MessageDecoder();
      decoder.push(stream.subarray(0, cut));
      decoder.push(stream.subarray(cut));
      const types = [];
      for (let r = decoder.next(limits); r.kind === 'message'; r = decoder.next(limits)) types.push(r.message);
      assert.equal(types.length, 4);
      assert.deepEqual(types[0], { type: 'ack', index: 1 });
      assert.equal(types[1]?.type === 'piece' && types[1].piece.offset, 7 * 16384);
      assert.deepEqual(types[2], { type: 'nack', index: 2, code: 'E_PIECE_HASH' });
      assert.deepEqual(types[3], { type: 'close', code: 'E_BUSY', reason: 'busy\\u000afake log line' });
    }
  });

  it('yields only messages, need-more or protocol errors for random and mutated input', () => {
    const valid = concatBytes(encodeAck(1), encodeNack(2, 'E_PIECE_HASH'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (random, at, value) => {
        for (const input of [random, Uint8Array.from(valid).fill(value, at, at + 1), valid.subarray(0, at)]) {
          const decoder = new MessageDecoder();
          decoder.push(input);
          for (let i = 0; i < 10; i++) {
            const r = decoder.next(limits);
            if (r.kind !== 'message') break;
          }
        }
      }),
    );
  });
});

describe('manifest codec', () => {
  const arbitraryManifest = fc
    .record({
      fileSize: fc.nat(10 * 2 ** 30),
      pieceSize: fc.integer({ min: 16384, max: 2 * 2 ** 20 }),
      name: fc.stringMatching(/^[a-zA-Z0-9_-][a-zA-Z0-9 ._-]{0,40}[a-zA-Z0-9_-]$/),
      zstd: fc.boolean(),
    })
    .map(({ fileSize, pieceSize, name, zstd }): Manifest => ({
      transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
      fileName: name,
      fileSize,
      pieceSize,
      pieceCount: pieceCountFor(fileSize, pieceSize),
      compression: zstd ? 'zstd' : 'none',
      resume: false,
    }));

  it('round-trips every valid manifest', () => {
    fc.assert(
      fc.property(arbitraryManifest, (m) => {
        const r = decodeManifest(encodeManifest(m), { maxTransferSize: 2 ** 40 });
        assert.ok(r.ok, !r.ok ? r.detail : '');
        assert.deepEqual(r.value, { manifest: m });
      }),
    );
  });

  it('refuses a declared size above the limit, a wrong piece count and truncation', () => {
    const m: Manifest = {
      transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
      fileName: 'a',
      fileSize: 100_000,
      pieceSize: 16384,
      pieceCount: 7,
      compression: 'zstd',
      resume: false,
    };
    const tooBig = decodeManifest(encodeManifest(m), { maxTransferSize: 99_999 });
    assert.equal(!tooBig.ok && tooBig.code, 'E_TRANSFER_TOO_LARGE');
    const bigPieces = decodeManifest(encodeManifest(m), { maxTransferSize: 2 ** 40, maxPayloadSize: 16384 + 53 });
    assert.equal(!bigPieces.ok && bigPieces.code, 'E_MANIFEST_INVALID');
    assert.ok(decodeManifest(encodeManifest(m), { maxTransferSize: 2 ** 40, maxPayloadSize: 16384 + 54 }).ok);
    const wrongCount = decodeManifest(encodeManifest({ ...m, pieceCount: 8 }), { maxTransferSize: 2 ** 40 });
    assert.equal(!wrongCount.ok && wrongCount.code, 'E_MANIFEST_INVALID');
    const bytes = encodeManifest(m);
    for (let n = 0; n < bytes.length; n++) assert.equal(decodeManifest(bytes.subarray(0, n), { maxTransferSize: 2 ** 40 }).ok, false);
  });

  it('never throws on mutated manifests', () => {
    const base = encodeManifest({
      transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
      fileName: 'report.pdf',
      fileSize: 5,
      pieceSize: 16384,
      pieceCount: 1,
      compression: 'none',
      resume: false,
    });
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const mutated = Uint8Array.from(base);
        mutated[at] = value;
        decodeManifest(mutated, { maxTransferSize: 2 ** 40 });
      }),
    );
  });
});

describe('every decoder against random bytes (docs/requirements.md#bounds)', () => {
  const allTypes = Object.values(MessageType);
  const PROTOCOL_CODES = new Set(['E_MALFORMED_FRAME', 'E_FRAME_TOO_LARGE', 'E_UNEXPECTED_MESSAGE', 'E_PIECE_OFFSET']);

  it('decodes any body of any message type to a message or a protocol error, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...allTypes, 0, 0x17, 0xff), fc.uint8Array({ maxLength: 1200 }), (type, body) => {
        const r = decodeMessage(type, body);
        if (!r.ok) assert.ok(PROTOCOL_CODES.has(r.code), r.code);
      }),
    );
  });

  it('buffers no more than one declared message, however the bytes arrive', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 4000 }), { maxLength: 30 }), (chunks) => {
        const decoder = new MessageDecoder();
        for (const chunk of chunks) {
          decoder.push(chunk);
          let r = decoder.next(limits);
          for (let i = 0; r.kind === 'message' && i < 1000; i++) r = decoder.next(limits);
          if (r.kind === 'error') return; // the session ends here
          // Waiting for more: what is held is at most one header plus one allowed body.
          const largestBody = Math.max(limits.maxPieceBody, limits.maxAcceptBody, 2 + 1024);
          assert.ok(decoder.buffered <= 5 + largestBody + chunk.length, `${decoder.buffered} bytes buffered`);
        }
      }),
    );
  });

  it('holds at most one frame of 3 + 65535 bytes, whatever is declared', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 9000 }), { maxLength: 20 }), (chunks) => {
        const decoder = new FrameDecoder();
        for (const chunk of chunks) {
          decoder.push(chunk);
          let r = decoder.next();
          for (let i = 0; r.kind === 'frame' && i < 1000; i++) r = decoder.next();
          if (r.kind === 'error') return;
          assert.ok(decoder.buffered <= 3 + 65535 + chunk.length);
        }
      }),
    );
  });

  it('reads random handshake messages into a handshake failure, never a throw', () => {
    const crypto = new NodeCryptoPrimitives();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (first, second) => {
        const responder = new HandshakeState({
          crypto,
          protocolName: PROTOCOL_NAME,
          pattern: PATTERNS['XX']!,
          initiator: false,
          prologue: utf8(PROLOGUE_TEXT),
          staticKey: crypto.generateKeyPair(),
          ephemeralKey: crypto.generateKeyPair(),
        });
        const r1 = responder.readMessage(first);
        if (!r1.ok) assert.equal(r1.code, 'E_HANDSHAKE_FAILED');
        const initiator = new HandshakeState({
          crypto,
          protocolName: PROTOCOL_NAME,
          pattern: PATTERNS['XX']!,
          initiator: true,
          prologue: utf8(PROLOGUE_TEXT),
          staticKey: crypto.generateKeyPair(),
          ephemeralKey: crypto.generateKeyPair(),
        });
        initiator.writeMessage(new Uint8Array(0));
        const r2 = initiator.readMessage(second);
        assert.equal(r2.ok, false, 'random bytes never authenticate as message 2');
        if (!r2.ok) assert.equal(r2.code, 'E_HANDSHAKE_FAILED');
      }),
      { numRuns: 200 },
    );
  });

  it('names only known REFUSE reasons', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (body) => void decodeRefuse(body)));
  });
});

describe('lent body buffers', () => {
  it('fills a lent body record by record, holding none of them, and then reads on', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 20_000 }), (seed, step) => {
        let x = seed;
        const data = Uint8Array.from({ length: 70_000 }, () => (x = (x * 48271) % 2147483647) & 0xff);
        const piece = concatBytes(
          encodePieceHeader(
            { index: 3, offset: 0, rawLength: data.length, encoding: PieceEncoding.RAW, hash: new Uint8Array(32) },
            data.length,
          ),
          data,
        );
        const stream = concatBytes(piece, encodeAck(9));
        const limits = { maxPieceBody: 49 + 80_000, maxAcceptBody: 0 };
        const lent = new Uint8Array(49 + 80_000);
        let lends = 0;
        const decoder = new MessageDecoder();
        const got: string[] = [];
        for (let at = 0; at < stream.length; at += step) {
          const chunk = Uint8Array.from(stream.subarray(at, at + step));
          decoder.push(chunk);
          // Everything pushed so far is either in the lent body or queued: never more than a message.
          assert.ok(decoder.buffered <= piece.length + 5 + 4);
          // Like the receiver, lend only for large bodies.
          const lend = (length: number) => (length < 1000 ? undefined : (lends++, lent));
          for (let r = decoder.next(limits, lend); r.kind !== 'need-more'; r = decoder.next(limits, lend)) {
            assert.equal(r.kind, 'message');
            if (r.kind !== 'message') return;
            if (r.message.type === 'piece') {
              assert.deepEqual(r.message.piece.data, data);
              assert.equal(r.message.piece.data.buffer, lent.buffer);
              got.push(`piece ${r.message.piece.index}`);
            } else got.push(r.message.type);
          }
          // The piece's body was copied out as it came (only its 5-byte message header waits
          // for the rest of itself): scribbling over the body's bytes afterwards changes nothing.
          chunk.fill(0, Math.max(0, 5 - at), Math.max(0, Math.min(chunk.length, piece.length - at)));
        }
        assert.deepEqual(got, ['piece 3', 'ack']);
        assert.equal(lends, 1, 'one body, one lent buffer');
      }),
      { numRuns: 40 },
    );
  });

  it('decodes the same bytes into a lent buffer as into a fresh one, for any split', () => {
    fc.assert(
      // Large arrays come from a seed: fast-check builds big arrays element by element, slowly.
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 69_999 }),
        (seed, extra, cut) => {
          let x = seed;
          const data = Uint8Array.from({ length: 70_000 + extra }, () => (x = (x * 48271) % 2147483647) & 0xff);
          const message = concatBytes(
            encodePieceHeader(
              { index: 0, offset: 0, rawLength: data.length, encoding: PieceEncoding.RAW, hash: new Uint8Array(32) },
              data.length,
            ),
            data,
          );
          const bigLimits = { maxPieceBody: 49 + 80_000, maxAcceptBody: 0 };
          const lent = new Uint8Array(49 + 80_000).fill(0xee);
          const decoder = new MessageDecoder();
          decoder.push(message.subarray(0, cut));
          decoder.push(message.subarray(cut));
          const r = decoder.next(bigLimits, () => lent);
          assert.equal(r.kind, 'message');
          if (r.kind === 'message' && r.message.type === 'piece') {
            assert.deepEqual(r.message.piece.data, data);
            // A body split across chunks is copied into the lent buffer; one inside a single chunk
            // is handed out as a view of it, with no copy at all.
            if (cut > 5) assert.equal(r.message.piece.data.buffer, lent.buffer, 'the body landed in the lent buffer');
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('offers a direct slot only inside a lent body with nothing queued, and decodes the same bytes through it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 30_000 }), (seed, step) => {
        let x = seed;
        const data = Uint8Array.from({ length: 70_000 }, () => (x = (x * 48271) % 2147483647) & 0xff);
        const piece = concatBytes(
          encodePieceHeader(
            { index: 1, offset: 0, rawLength: data.length, encoding: PieceEncoding.RAW, hash: new Uint8Array(32) },
            data.length,
          ),
          data,
        );
        const stream = concatBytes(piece, encodeAck(4));
        const limits = { maxPieceBody: 49 + 80_000, maxAcceptBody: 0 };
        const lent = new Uint8Array(49 + 80_000);
        const decoder = new MessageDecoder();
        const got: string[] = [];
        let direct = 0;
        // Records of `step` bytes: each goes into the slot when offered (as the channel decrypts
        // into it), else is pushed.
        for (let at = 0; at < stream.length; at += step) {
          const record = stream.subarray(at, at + step);
          const slot = decoder.directSlot(record.length);
          if (slot) {
            // Only ever the unfilled part of the lent body, and never past the piece's end.
            assert.equal(slot.buffer, lent.buffer);
            assert.ok(at + record.length <= piece.length, 'a slot offered for bytes beyond the body');
            slot.set(record);
            decoder.filledDirectly(record.length);
            direct++;
          } else decoder.push(Uint8Array.from(record));
          for (
            let r = decoder.next(limits, (n) => (n < 1000 ? undefined : lent));
            r.kind !== 'need-more';
            r = decoder.next(limits, (n) => (n < 1000 ? undefined : lent))
          ) {
            assert.equal(r.kind, 'message');
            if (r.kind !== 'message') return;
            if (r.message.type === 'piece') {
              assert.deepEqual(r.message.piece.data, data);
              got.push('piece');
            } else got.push(r.message.type);
          }
        }
        assert.deepEqual(got, ['piece', 'ack']);
        // Every record after the one that completes the 5-byte message header, and ending
        // inside the piece, fits a slot.
        const whollyInside = Math.floor(piece.length / step) - Math.ceil(5 / step);
        assert.ok(direct >= whollyInside, `${direct} direct records, expected at least ${whollyInside}`);
        assert.throws(() => decoder.filledDirectly(1), /no direct slot/);
      }),
      { numRuns: 40 },
    );
  });
});
