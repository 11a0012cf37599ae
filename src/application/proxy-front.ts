// Behind a balancer (docs/scaling.md): only a trusted address may connect, and its first bytes
// must be a PROXY v2 header, read within a few seconds; the client it names is then admitted like
// any other. A balancer's own connection (a LOCAL header, a health check) is closed after its
// header, so the balancer's address never earns an offence: banning it would lock everyone out.
import type { ErrorCode } from '../domain/errors.js';
import type { Connection } from '../domain/ports/transport.js';
import { readProxyHeader } from './proxied-connection.js';

/** A balancer sends its PROXY header with the connection: a few seconds is ample. */
const PROXY_HEADER_TIMEOUT_MS = 5_000;

export interface ProxyFrontRules {
  readonly trusted: (address: string) => boolean;
  /** Connections that may wait for their header at once (they count like handshakes in progress). */
  readonly maxWaiting: number;
  readonly handshakeTimeoutMs: number;
}

export class ProxyFront {
  /** Connections whose PROXY header has not arrived yet. */
  private readonly waiting = new Set<Connection>();
  private stopping = false;

  constructor(
    private readonly rules: ProxyFrontRules,
    /** The client's connection, as if it had connected directly. */
    private readonly admit: (connection: Connection) => void,
    private readonly refuse: (connection: Connection, code: ErrorCode, detail: string, type?: 'handshake.failed') => void,
  ) {}

  accept(connection: Connection): void {
    if (!this.rules.trusted(connection.remoteAddress)) {
      return this.refuse(
        connection,
        'E_PROXY',
        `${connection.remoteAddress} is not a trusted proxy (ST_TRUSTED_PROXIES) and this receiver takes connections only through one`,
      );
    }
    if (this.waiting.size >= this.rules.maxWaiting)
      return this.refuse(connection, 'E_BUSY', `${this.waiting.size} connections are waiting for their PROXY header`);
    this.waiting.add(connection);
    const deadline = setTimeout(() => connection.destroy(), Math.min(PROXY_HEADER_TIMEOUT_MS, this.rules.handshakeTimeoutMs));
    readProxyHeader(connection)
      .then(({ connection: proxied, client }) => {
        clearTimeout(deadline);
        this.waiting.delete(connection);
        // A LOCAL header is the balancer's own health check: it needs no session.
        if (client === undefined || this.stopping) return connection.destroy();
        this.admit(proxied);
      })
      .catch((e: unknown) => {
        clearTimeout(deadline);
        this.waiting.delete(connection);
        this.refuse(connection, 'E_PROXY', (e as Error).message, 'handshake.failed');
      });
  }

  /** Admits nobody any more, and drops the connections still waiting for their header. */
  stop(): void {
    this.stopping = true;
    for (const c of this.waiting) c.destroy();
  }
}
