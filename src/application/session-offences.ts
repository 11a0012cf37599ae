// What a finished session counts toward a ban of its source (docs/defences.md#bans), and what
// happens when a ban is decided here: shared with the other receivers and audited.
import type { ErrorCode } from '../domain/errors.js';
import type { Ban, BanPolicy } from '../domain/policy/ban-policy.js';
import { isOffence } from '../domain/policy/penalties.js';
import type { Clock } from '../domain/ports/clock.js';
import type { BanSharing } from './ban-sharing.js';
import type { ServerAudit } from './server-audit.js';
import type { SessionOutcome } from './session-host.js';

/** Whether a session's outcome is an offence of its source. */
export function countsAsOffence(outcome: SessionOutcome): outcome is Exclude<SessionOutcome, { kind: 'completed' }> {
  if (outcome.kind === 'completed') return false;
  if (outcome.kind === 'handshake-failed') return outcome.code !== 'E_INTERRUPTED';
  // A sender that ended the session with its own CLOSE says why; that is no offence.
  if (outcome.closedByPeer) return false;
  // Taking an ACCEPT (a reservation, a record, audit rows) and dropping the connection before
  // the first piece is what a flood of cheap sessions looks like: it counts.
  if (outcome.kind === 'failed' && outcome.nothingWritten && outcome.code === 'E_CONNECTION_LOST') return true;
  return isOffence(outcome.code);
}

export class SessionOffences {
  constructor(
    private readonly bans: BanPolicy,
    /** Shares offences and bans with other receivers; none for one receiver alone. */
    private readonly sharing: () => BanSharing | undefined,
    private readonly audit: ServerAudit,
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {}

  /** Counts an offence of a source: a ban when it reaches the threshold, else a report for the others. */
  async record(key: string, code: ErrorCode): Promise<void> {
    const ban = this.bans.recordOffence(key, this.clock.now());
    if (ban) await this.banned(ban, `the last ${code}`);
    else this.sharing()?.offended(key);
  }

  /** A ban decided here, from offences here or reported by the others: shared and audited. */
  async banned(ban: Ban, cause: string): Promise<void> {
    await this.sharing()?.banned(ban);
    await this.audit.record({
      type: 'ban',
      at: this.clock.now(),
      peerAddress: ban.key,
      code: 'E_BANNED',
      detail: `${ban.offences} offences within ${this.windowMs / 1000} s (${cause}): ban ${ban.round}, refused until ${new Date(ban.until).toISOString()}`,
    });
  }
}
