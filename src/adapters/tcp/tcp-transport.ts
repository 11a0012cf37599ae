import { connect, createServer, type Socket } from 'node:net';
import { SecureTransferError } from '../../domain/errors.js';
import type { Connection, Listener, ListenOptions, Transport } from '../../domain/ports/transport.js';
import { TcpConnection } from './tcp-connection.js';

export class TcpTransport implements Transport {
  connect(host: string, port: number, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SecureTransferError('E_TIMEOUT', `could not connect to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TcpConnection(socket));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new SecureTransferError('E_CONNECTION_LOST', `could not connect to ${host}:${port}: ${e.code ?? e.message}`, { cause: e }));
      });
    });
  }

  listen(options: ListenOptions): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ pauseOnConnect: false }, (socket) => {
        // A peer that resets before the session attaches its handlers must not crash the process.
        socket.on('error', () => undefined);
        options.onConnection(new TcpConnection(socket));
      });
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new SecureTransferError('E_CONFIG', `cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`, { cause: e }),
        ),
      );
      server.listen(options.port, options.host, () => {
        // From now on an error is one accept(2) that failed (EMFILE, ENFILE, ENOBUFS): the
        // listener goes on, and an 'error' with no handler would end the process.
        server.on('error', (e: Error) => options.onError?.(e));
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : options.port;
        resolve({
          host: options.host,
          port,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
    });
  }
}
