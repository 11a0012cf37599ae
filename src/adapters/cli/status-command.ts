import { Command, Option, UsageError } from 'clipanion';
import type { CliContext } from './cli-app-port.js';
import { EXIT_OK, EXIT_TRANSFER_FAILED, exitStatusHelp } from './exit-codes.js';
import { formatTransfer } from './format.js';

export class StatusCommand extends Command<CliContext> {
  static override paths = [['status']];
  static override usage = Command.Usage({
    description: 'Show transfers recorded in the database (DB_PATH).',
    details: exitStatusHelp('status'),
    examples: [
      ['Every transfer, newest first', '$0 status --all'],
      ['One transfer as JSON', '$0 status --transfer-id 1b4e28ba-2fa1-4d2e-883f-0016d3cca427 --json'],
    ],
  });

  transferId = Option.String('--transfer-id', { description: 'The id printed by send' });
  all = Option.Boolean('--all', false, { description: 'List every transfer' });
  json = Option.Boolean('--json', false, { description: 'Print JSON' });

  async execute(): Promise<number> {
    if (!this.all && !this.transferId) throw new UsageError('status needs --transfer-id ID or --all');
    if (this.all && this.transferId) throw new UsageError('status takes --transfer-id or --all, not both');
    const records = await this.context.app.transfers(this.all ? undefined : this.transferId);
    // A folder's encoded entry list is for resumes, not for reading: its count and skipped entries are shown.
    if (this.json)
      this.context.stdout.write(
        `${JSON.stringify(
          records.map(({ entryList: _list, ...r }) => r),
          null,
          2,
        )}\n`,
      );
    else this.context.stdout.write(records.length ? `${records.map(formatTransfer).join('\n\n')}\n` : 'no transfers\n');
    if (this.transferId && records.length === 0) {
      this.context.stderr.write(`error: no transfer with id ${JSON.stringify(this.transferId)}\n`);
      return EXIT_TRANSFER_FAILED;
    }
    return EXIT_OK;
  }
}
