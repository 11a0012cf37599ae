// Admission before any cryptography (docs/defences.md#connections): a banned source, a source at
// its cap of connections or of handshakes in progress, and a receiver whose handshakes in
// progress call for random early drop (MaxStartups) are refused at once. The gate also keeps
// what each source holds, for as long as it holds anything, so the table shrinks back when a
// flood stops.
import type { ErrorCode } from '../domain/errors.js';
import type { BanPolicy } from '../domain/policy/ban-policy.js';
import { dropStartup, type StartupRules } from '../domain/policy/startup-throttle.js';

export interface GateRules {
  readonly maxConcurrentPerIp: number;
  readonly maxHandshakesPerIp: number;
  readonly startups: StartupRules;
}

/** What one source (an address key) holds now. */
export interface Source {
  connections: number;
  handshakes: number;
  /** Piece-state bytes this source's transfers hold. */
  pieceState: number;
}

export class ConnectionGate {
  private readonly sources = new Map<string, Source>();
  private handshakes = 0;

  constructor(
    private readonly rules: GateRules,
    private readonly bans: BanPolicy,
    /** A number in [0, 1) for random early drop; randomness comes in from outside. */
    private readonly random: () => number,
  ) {}

  /** Why a connection from this source is refused now, if it is. */
  refusal(key: string, now: number): { readonly code: ErrorCode; readonly detail: string } | undefined {
    const ban = this.bans.banned(key, now);
    if (ban)
      return {
        code: 'E_BANNED',
        detail: `banned until ${new Date(ban.until).toISOString()} after ${ban.offences} offences (ban ${ban.round})`,
      };
    const known = this.sources.get(key);
    if ((known?.connections ?? 0) >= this.rules.maxConcurrentPerIp)
      return { code: 'E_BUSY', detail: `more than ${this.rules.maxConcurrentPerIp} concurrent connections from ${key}` };
    if ((known?.handshakes ?? 0) >= this.rules.maxHandshakesPerIp)
      return { code: 'E_BUSY', detail: `${this.rules.maxHandshakesPerIp} handshakes from ${key} already in progress` };
    const { start, rate, full } = this.rules.startups;
    if (dropStartup(this.rules.startups, this.handshakes, this.random()))
      return { code: 'E_BUSY', detail: `${this.handshakes} handshakes in progress (limit ${start}:${rate}:${full})` };
    return undefined;
  }

  /** A connection admitted: it holds a connection and a handshake of its source. */
  enter(key: string): Source {
    let source = this.sources.get(key);
    if (!source) {
      source = { connections: 0, handshakes: 0, pieceState: 0 };
      this.sources.set(key, source);
    }
    source.connections++;
    source.handshakes++;
    this.handshakes++;
    return source;
  }

  handshakeEnded(key: string, source: Source): void {
    this.handshakes--;
    source.handshakes--;
    this.forgetIfIdle(key, source);
  }

  /** The source's entry goes once nothing of it is left, whichever release comes last. */
  forgetIfIdle(key: string, source: Source): void {
    if (source.connections <= 0 && source.handshakes <= 0 && source.pieceState <= 0 && this.sources.get(key) === source)
      this.sources.delete(key);
  }

  /** Sources with connections, handshakes or transfers in progress. */
  get tracked(): number {
    return this.sources.size;
  }
}
