// resume and keygen exist so their flags and help are stable; their behaviour lands with
// issues 4 (resume) and 3 (keygen). They say so and exit 1 instead of pretending.
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

export class KeygenCommand extends Command<CliContext> {
  static override paths = [['keygen']];
  static override usage = Command.Usage({
    description: 'Make an X25519 identity key, stored encrypted under a password.',
    details: 'Arrives in a coming release; today `receive` and `send` create unencrypted 0600 keys on first use (ST_HOST_KEY_PATH, ST_IDENTITY_PATH).',
    examples: [['Make a key in ./keys', '$0 keygen --output ./keys']],
  });
  output = Option.String('--output', { required: true });
  password = Option.String('--password');

  async execute(): Promise<number> {
    this.context.stderr.write('error: keygen arrives in a coming release; keys are created on first use meanwhile (see --help)\n');
    return EXIT_TRANSFER_FAILED;
  }
}
