import { Command, Option, UsageError } from 'clipanion';
import * as t from 'typanion';
import type { CliContext } from './cli-app-port.js';
import { EXIT_OK, exitStatusHelp } from './exit-codes.js';
import { formatAuditEvent } from './format.js';

const ADDRESS = /^[0-9A-Fa-f.:]+(::\/64)?$/;

export class AuditCommand extends Command<CliContext> {
  static override paths = [['audit']];
  static override usage = Command.Usage({
    description: 'Show the audit trail from the database (DB_PATH): connections, handshakes, transfers, errors, bans.',
    details: `
      Oldest first, the newest --limit events (default 100). Filter by transfer id or by peer
      address (any port; an IPv6 ban is recorded for its /64, e.g. 2001:db8:0:1::/64).
      ${exitStatusHelp('audit')}
    `,
    examples: [
      ['The last 100 events', '$0 audit'],
      ['Everything about one transfer', '$0 audit --transfer-id 1b4e28ba-2fa1-4d2e-883f-0016d3cca427'],
      ['What one address did, as JSON', '$0 audit --address 203.0.113.7 --json'],
    ],
  });

  transferId = Option.String('--transfer-id', { description: 'Only this transfer' });
  address = Option.String('--address', { description: 'Only this peer address (any port)' });
  limit = Option.String('--limit', '100', {
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 100_000)]),
    description: 'How many of the newest events (default 100)',
  });
  json = Option.Boolean('--json', false, { description: 'Print JSON' });

  async execute(): Promise<number> {
    if (this.address !== undefined && !ADDRESS.test(this.address))
      throw new UsageError(`--address ${JSON.stringify(this.address)} is not an IP address`);
    const events = await this.context.app.audit({
      ...(this.transferId === undefined ? {} : { transferId: this.transferId }),
      ...(this.address === undefined ? {} : { peerAddress: this.address }),
      limit: Number(this.limit),
    });
    if (this.json) this.context.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    else this.context.stdout.write(events.length ? `${events.map(formatAuditEvent).join('\n')}\n` : 'no audit events\n');
    return EXIT_OK;
  }
}
