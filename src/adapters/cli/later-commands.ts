// resume exists so its flags and help are stable; its behaviour lands with issue 4. It says
// so and exits 1 instead of pretending.
import { Command, Option } from 'clipanion';
import type { CliContext } from './cli-app.js';
import { EXIT_TRANSFER_FAILED } from './exit-codes.js';

export class ResumeCommand extends Command<CliContext> {
  static override paths = [['resume']];
  static override usage = Command.Usage({
    description: 'Continue an interrupted transfer, sending only the pieces the receiver lacks.',
    details: 'Arrives in a coming release; today it explains that and exits 1.',
    examples: [['Resume a transfer', '$0 resume --transfer-id 1b4e28ba-2fa1-4d2e-883f-0016d3cca427 --host 10.0.0.5 --port 9000 --file ./data.bin']],
  });
  transferId = Option.String('--transfer-id', { required: true });
  host = Option.String('--host', 'localhost');
  port = Option.String('--port');
  file = Option.String('--file', { required: true });

  async execute(): Promise<number> {
    this.context.stderr.write('error: resume arrives in a coming release; send the file again with `send` meanwhile\n');
    return EXIT_TRANSFER_FAILED;
  }
}
