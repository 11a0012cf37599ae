// One connection's framing and record layer (PROTOCOL.md §2–§4): frames before the handshake,
// AES-256-GCM records after it, and the inner message stream on top of the records.
import { SecureTransferError } from '../domain/errors.js';
import { AEAD_TAG_LENGTH, MAX_NOISE_MESSAGE, MAX_PIECE_SIZE, MAX_RECORD_PLAINTEXT } from '../domain/limits.js';
import { BufferPool } from '../domain/policy/buffer-pool.js';
import { PIECE_HEADER_LENGTH } from '../domain/wire/messages.js';
import type { CipherState } from '../domain/noise/cipher-state.js';
import type { Connection } from '../domain/ports/transport.js';
import { FRAME_HEADER_LENGTH, FrameType, encodeFrame, writeFrameHeader, type Frame, type FrameTypeValue } from '../domain/wire/frame.js';
import { ByteQueue } from '../domain/wire/byte-queue.js';
import { FrameDecoder } from '../domain/wire/frame-decoder.js';
import { MessageDecoder } from '../domain/wire/message-decoder.js';
import type { InboundMessage, MessageLimits } from '../domain/wire/messages.js';
import { UNTIMED, type WaitTimer } from './pipeline-waits.js';

/**
 * Outgoing buffers for large messages (pieces) come from a pool (BufferPool says why): two
 * pieces of the largest size cover one on its way to the kernel while the next is sealed. Beyond
 * that, a buffer is made and left to the collector.
 */
const OUTGOING_POOL_BYTES = 2 * sealedLength(PIECE_HEADER_LENGTH + MAX_PIECE_SIZE);

/** Bytes on the wire for a stream slice of length bytes: cut into records, each framed and tagged. */
function sealedLength(length: number): number {
  return length + Math.ceil(length / MAX_RECORD_PLAINTEXT) * (FRAME_HEADER_LENGTH + AEAD_TAG_LENGTH);
}

/** Lends buffers for large message bodies: a buffer, undefined for none wanted, or 'wait' when none is free now. */
export interface BodyLender {
  lend(length: number): Uint8Array | undefined | 'wait';
  /** Resolves when a buffer may be free; rejects to end the read. */
  wait(): Promise<void>;
}

export class SecureChannel {
  private readonly frames = new FrameDecoder();
  private readonly outgoingPool = new BufferPool(OUTGOING_POOL_BYTES);
  /**
   * Where a record that spans read chunks is put together: records are decrypted at once (into
   * a piece's body or new plaintext), so one buffer serves them all instead of a new 64 KiB one
   * per record.
   */
  private recordScratch: Uint8Array | undefined; // made at the first record: refused peers never cost it
  private readonly messages = new MessageDecoder();
  private sendCipher: CipherState | undefined;
  private receiveCipher: CipherState | undefined;

  /** Counts the time spent waiting for the peer's bytes, a free body buffer, and room in the socket (a receiving session sets it). */
  waits: WaitTimer<'network' | 'buffers' | 'socket'> = UNTIMED;

  constructor(readonly connection: Connection) {}

  /**
   * Reads the next whole frame; throws E_CONNECTION_LOST at end of stream, the decoder's code on
   * bad framing. With scratch the body may be a view of it (FrameDecoder.next).
   */
  async readFrame(scratch?: Uint8Array): Promise<Frame> {
    for (;;) {
      const next = this.frames.next(scratch);
      if (next.kind === 'frame') return next.frame;
      if (next.kind === 'error') throw new SecureTransferError(next.code, next.detail);
      const chunk = await this.waits.during('network', this.connection.read());
      if (chunk === null) {
        const partial = this.frames.buffered > 0 ? ` with ${this.frames.buffered} bytes of an unfinished frame` : '';
        throw new SecureTransferError('E_CONNECTION_LOST', `the peer closed the connection${partial}`);
      }
      this.frames.push(chunk);
    }
  }

  async writeFrame(type: FrameTypeValue, body: Uint8Array): Promise<void> {
    await this.connection.write(encodeFrame(type, body));
  }

  /** Switches to the transport phase with the cipher states from the handshake. */
  startRecords(send: CipherState, receive: CipherState): void {
    this.sendCipher = send;
    this.receiveCipher = receive;
  }

  /**
   * Sends messages (already encoded) as one stream slice: it is cut into records of at most
   * MAX_RECORD_PLAINTEXT bytes, each sealed with the next nonce straight into the outgoing
   * buffer after its frame header, and written in one call.
   */
  async sendMessages(parts: readonly Uint8Array[]): Promise<void> {
    const cipher = this.requireSendCipher();
    let total = 0;
    for (const p of parts) total += p.length;
    const out = this.outgoing(sealedLength(total));
    const stream = new ByteQueue();
    for (const p of parts) stream.push(p);
    let at = 0;
    while (stream.length > 0) {
      // take() returns a view when the slice lies in one part, so big pieces are not copied here.
      const slot = out.subarray(at + FRAME_HEADER_LENGTH);
      const sealed = cipher.encrypt(stream.take(Math.min(stream.length, MAX_RECORD_PLAINTEXT)), slot);
      writeFrameHeader(out, at, FrameType.RECORD, sealed.length);
      at += FRAME_HEADER_LENGTH + sealed.length;
    }
    // Pooled buffers hold only ciphertext, never plaintext, so keeping them around reveals nothing.
    await this.waits.during(
      'socket',
      this.connection.write(out.subarray(0, at), () => this.outgoingPool.give(out)),
    );
  }

  /** Small messages (ACKs) get a buffer of their own: pooling them would not pay. */
  private outgoing(length: number): Uint8Array {
    return length < MAX_RECORD_PLAINTEXT ? new Uint8Array(length) : this.outgoingPool.takeOrMake(length);
  }

  /**
   * Reads the next message; throws E_DECRYPT_FAILED for a record that fails authentication.
   * bodies may lend a buffer for a large body (see MessageDecoder.next); when it has none free
   * for now, reading pauses until its wait() returns (so the peer is slowed by TCP, not buffered).
   */
  async readMessage(limits: MessageLimits, bodies?: BodyLender): Promise<InboundMessage> {
    const cipher = this.requireReceiveCipher();
    let mustWait: boolean;
    const lend = bodies
      ? (length: number) => {
          const lent = bodies.lend(length);
          if (lent !== 'wait') return lent;
          mustWait = true;
          return undefined;
        }
      : undefined;
    for (;;) {
      mustWait = false;
      const next = this.messages.next(limits, lend);
      if (next.kind === 'message') return next.message;
      if (next.kind === 'error') throw new SecureTransferError(next.code, next.detail);
      if (mustWait) {
        await this.waits.during('buffers', bodies!.wait());
        continue;
      }
      const frame = await this.readFrame((this.recordScratch ??= new Uint8Array(FRAME_HEADER_LENGTH + MAX_NOISE_MESSAGE)));
      if (frame.type !== FrameType.RECORD) {
        throw new SecureTransferError('E_UNEXPECTED_MESSAGE', `frame type ${frame.type} after the handshake`);
      }
      // A record wholly inside a piece's body is opened straight into it: no plaintext copy,
      // and no new buffer per record for the garbage collector.
      const slot = frame.body.length > AEAD_TAG_LENGTH ? this.messages.directSlot(frame.body.length - AEAD_TAG_LENGTH) : undefined;
      const plaintext = cipher.decrypt(frame.body, slot);
      if (plaintext === undefined) {
        throw new SecureTransferError('E_DECRYPT_FAILED', 'a record failed authentication (tampered, replayed or out of order)');
      }
      if (slot) this.messages.filledDirectly(slot.length);
      else this.messages.push(plaintext);
    }
  }

  /** Zeroes the transport keys (docs/requirements.md#keys); the channel cannot send or receive records afterwards. */
  destroyKeys(): void {
    this.sendCipher?.destroy();
    this.receiveCipher?.destroy();
  }

  private requireSendCipher(): CipherState {
    if (!this.sendCipher) throw new Error('SecureChannel: no transport keys yet');
    return this.sendCipher;
  }

  private requireReceiveCipher(): CipherState {
    if (!this.receiveCipher) throw new Error('SecureChannel: no transport keys yet');
    return this.receiveCipher;
  }
}
