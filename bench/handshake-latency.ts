// Handshake latency against the real receiver process: from connect to the receiver's ACCEPT,
// i.e. the three Noise messages, the manifest's checks and its database record.
import { spawn } from 'node:child_process';
import { NodeCryptoPrimitives } from '../src/adapters/crypto/node-crypto-primitives.js';
import { TcpTransport } from '../src/adapters/tcp/tcp-transport.js';
import { initiatorHandshake } from '../src/application/handshake.js';
import { SecureChannel } from '../src/application/secure-channel.js';
import { encodeManifest } from '../src/domain/transfer/manifest.js';
import { transferIdFromRandom } from '../src/domain/transfer/transfer-id.js';
import { encodeClose } from '../src/domain/wire/messages.js';

export async function handshakeLatencies(cli: string, side: { env: NodeJS.ProcessEnv }, port: number, count: number): Promise<number[]> {
  const receiver = spawn(process.execPath, [cli, 'receive', '--host', '127.0.0.1', '--port', String(port)], {
    env: side.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    receiver.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('host key fingerprint')) resolve();
    });
    receiver.once('exit', () => reject(new Error(`receiver exited:\n${out}`)));
  });
  const crypto = new NodeCryptoPrimitives();
  const transport = new TcpTransport();
  const identity = crypto.generateKeyPair();
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const connection = await transport.connect('127.0.0.1', port, 5000);
      const channel = new SecureChannel(connection);
      const handshake = initiatorHandshake(channel, crypto, identity);
      await handshake.start();
      const manifest = {
        transferId: transferIdFromRandom(crypto.randomBytes(16)),
        fileName: `latency-${i}.bin`,
        fileSize: 1,
        pieceSize: 16384,
        pieceCount: 1,
        compression: 'none' as const,
        resume: false,
      };
      await handshake.finish(encodeManifest(manifest));
      const accept = await channel.readMessage({ maxPieceBody: 0, maxAcceptBody: 5 });
      times.push(performance.now() - started);
      if (accept.type !== 'accept') throw new Error(`expected ACCEPT, got ${accept.type}`);
      // An honest sender that gives up says so: a connection dropped after ACCEPT without a piece
      // counts as an offence (docs/defences.md#bans), and 20 of them would get this probe banned.
      await channel.sendMessages([encodeClose('E_INTERRUPTED', 'latency probe done')]);
      channel.destroyKeys();
      connection.destroy();
    }
  } finally {
    receiver.kill('SIGTERM');
  }
  return times;
}
