// A TCP forwarder whose destination can be changed between connections: stands for a network
// position an attacker takes over (a man in the middle terminating connections with its own key).
import { connect, createServer, type Server } from 'node:net';

export interface SwitchProxy {
  readonly port: number;
  /** Later connections go to this port. */
  target(port: number): void;
  close(): Promise<void>;
}

export function startSwitchProxy(initialTarget: number): Promise<SwitchProxy> {
  let targetPort = initialTarget;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        target: (port) => (targetPort = port),
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
