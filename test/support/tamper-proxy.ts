import { connect, createServer, type Server } from 'node:net';

/**
 * A TCP proxy that forwards both ways and flips one bit of the client-to-server stream at a
 * given byte offset: a man on the wire who cannot decrypt but can tamper.
 */
export function startTamperProxy(
  targetPort: number,
  flipAtOffset: number,
): Promise<{ port: number; server: Server; flipped: () => boolean }> {
  let seen = 0;
  let flipped = false;
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    client.on('data', (chunk: Buffer) => {
      if (!flipped && seen + chunk.length > flipAtOffset) {
        chunk[flipAtOffset - seen]! ^= 0x01;
        flipped = true;
      }
      seen += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ port: typeof address === 'object' && address ? address.port : 0, server, flipped: () => flipped });
    }),
  );
}
