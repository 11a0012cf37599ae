// Noise XX over frames (docs/requirements.md#handshake, PROTOCOL.md §3):
//   HANDSHAKE_INIT   -> e
//   HANDSHAKE_RESP   <- e, ee, s, es
//   HANDSHAKE_FINAL  -> s, se          (payload: the MANIFEST)
// The prologue binds the protocol name and version, so a peer speaking anything else fails.
import { utf8 } from '../domain/bytes.js';
import { SecureTransferError } from '../domain/errors.js';
import { PROLOGUE_TEXT, PROTOCOL_NAME } from '../domain/protocol.js';
import { HandshakeState, type TransportKeys } from '../domain/noise/handshake-state.js';
import { PATTERNS } from '../domain/noise/patterns.js';
import type { CryptoPrimitives, KeyPair } from '../domain/ports/crypto-primitives.js';
import { FrameType, decodeRefuse, type FrameTypeValue } from '../domain/wire/frame.js';
import type { SecureChannel } from './secure-channel.js';

const EMPTY = new Uint8Array(0);

function newHandshake(crypto: CryptoPrimitives, initiator: boolean, identity: KeyPair): HandshakeState {
  return new HandshakeState({
    crypto,
    protocolName: PROTOCOL_NAME,
    pattern: PATTERNS['XX']!,
    initiator,
    prologue: utf8(PROLOGUE_TEXT),
    staticKey: identity,
    // Fresh ephemeral keys on every connection, a resume included (docs/requirements.md#keys).
    ephemeralKey: crypto.generateKeyPair(),
  });
}

async function expectFrame(channel: SecureChannel, type: FrameTypeValue, name: string): Promise<Uint8Array> {
  const frame = await channel.readFrame();
  if (frame.type === FrameType.REFUSE) {
    const code = decodeRefuse(frame.body) ?? 'E_HANDSHAKE_FAILED';
    throw new SecureTransferError(code, `the receiver refused the connection (${code})`);
  }
  if (frame.type !== type) throw new SecureTransferError('E_HANDSHAKE_FAILED', `expected ${name}, got frame type ${frame.type}`);
  return frame.body;
}

function readOrThrow(hs: HandshakeState, message: Uint8Array): Uint8Array {
  const read = hs.readMessage(message);
  if (!read.ok) throw new SecureTransferError(read.code, read.detail);
  return read.value;
}

/** PROTOCOL.md §3: messages 1 and 2 carry no payload; one that does is refused, not ignored. */
function readEmpty(hs: HandshakeState, message: Uint8Array, name: string): void {
  const payload = readOrThrow(hs, message);
  if (payload.length > 0)
    throw new SecureTransferError('E_HANDSHAKE_FAILED', `${name} carries a ${payload.length}-byte payload; it must be empty`);
}

export interface InitiatorHandshake {
  /** Performs messages 1 and 2, returning the server's static key for the trust decision. */
  start(): Promise<Uint8Array>;
  /** Message 3 with the manifest; afterwards the channel speaks records. */
  finish(manifest: Uint8Array): Promise<TransportKeys>;
  destroy(): void;
}

export function initiatorHandshake(channel: SecureChannel, crypto: CryptoPrimitives, identity: KeyPair): InitiatorHandshake {
  const hs = newHandshake(crypto, true, identity);
  return {
    async start() {
      await channel.writeFrame(FrameType.HANDSHAKE_INIT, hs.writeMessage(EMPTY)); // -> e
      readEmpty(hs, await expectFrame(channel, FrameType.HANDSHAKE_RESP, 'HANDSHAKE_RESP'), 'HANDSHAKE_RESP'); // <- e, ee, s, es
      const serverKey = hs.remoteStaticKey;
      if (!serverKey) throw new SecureTransferError('E_HANDSHAKE_FAILED', 'the receiver sent no static key');
      return serverKey;
    },
    async finish(manifest) {
      const message = hs.writeMessage(manifest); // -> s, se
      const keys = hs.transportKeys();
      hs.destroy();
      try {
        await channel.writeFrame(FrameType.HANDSHAKE_FINAL, message);
      } catch (e) {
        // The transport keys exist from Split() on: a failed write must not leave them behind.
        keys.send.destroy();
        keys.receive.destroy();
        throw e;
      }
      channel.startRecords(keys.send, keys.receive);
      return keys;
    },
    destroy: () => hs.destroy(),
  };
}

export interface ResponderResult {
  readonly keys: TransportKeys;
  readonly clientKey: Uint8Array;
  /** The payload of message 3: the manifest, not yet parsed. */
  readonly payload: Uint8Array;
}

export async function responderHandshake(channel: SecureChannel, crypto: CryptoPrimitives, identity: KeyPair): Promise<ResponderResult> {
  const hs = newHandshake(crypto, false, identity);
  try {
    readEmpty(hs, await expectFrame(channel, FrameType.HANDSHAKE_INIT, 'HANDSHAKE_INIT'), 'HANDSHAKE_INIT'); // -> e
    await channel.writeFrame(FrameType.HANDSHAKE_RESP, hs.writeMessage(EMPTY)); // <- e, ee, s, es
    const payload = readOrThrow(hs, await expectFrame(channel, FrameType.HANDSHAKE_FINAL, 'HANDSHAKE_FINAL')); // -> s, se
    const keys = hs.transportKeys();
    channel.startRecords(keys.send, keys.receive);
    return { keys, clientKey: keys.remoteStaticKey!, payload };
  } finally {
    hs.destroy();
  }
}

/**
 * The responder's handshake under a deadline for the whole of it, so a slow peer cannot hold a
 * slot (docs/defences.md): past the deadline the connection is destroyed and the failure is
 * E_TIMEOUT.
 */
export async function responderHandshakeWithin(
  channel: SecureChannel,
  crypto: CryptoPrimitives,
  identity: KeyPair,
  timeoutMs: number,
  connection: { destroy(): void },
): Promise<ResponderResult> {
  let expired = false;
  const deadline = setTimeout(() => {
    expired = true;
    connection.destroy();
  }, timeoutMs);
  try {
    return await responderHandshake(channel, crypto, identity);
  } catch (e) {
    if (expired) throw new SecureTransferError('E_TIMEOUT', `handshake not finished within ${timeoutMs} ms`, { cause: e });
    throw e;
  } finally {
    clearTimeout(deadline);
  }
}
