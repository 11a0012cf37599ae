import { Command, Option } from 'clipanion';
import type { CliContext } from './cli-app-port.js';
import { EXIT_OK, exitStatusHelp } from './exit-codes.js';
import { askPassword } from './password-prompt.js';

export class KeygenCommand extends Command<CliContext> {
  static override paths = [['keygen']];
  static override usage = Command.Usage({
    description: 'Make an X25519 identity key, its private half encrypted under a password.',
    details: `
      Writes DIR/id_x25519 (the private key, sealed with scrypt and AES-256-GCM, mode 0600) and
      DIR/id_x25519.pub (the public key line and its fingerprint). Use the key with
      \`send --identity\` or \`receive --key\`; put the .pub line in a receiver's allow-list
      (ST_AUTHORIZED_KEYS). The password comes from --password, else ST_KEY_PASSWORD, else a
      prompt without echo (or the first line of stdin when it is not a terminal). Never replaces
      an existing key. ${exitStatusHelp('keygen')}
    `,
    examples: [
      ['Make a key in ~/.securetransfer/keys, asked for the password', '$0 keygen --output ~/.securetransfer/keys'],
      ['Password from the environment (scripts)', 'ST_KEY_PASSWORD=... $0 keygen --output ./keys'],
    ],
  });

  output = Option.String('--output', { required: true, description: 'Folder for id_x25519 and id_x25519.pub' });
  password = Option.String('--password', {
    description: 'Password (visible to other users in the process list: prefer ST_KEY_PASSWORD or the prompt)',
  });

  async execute(): Promise<number> {
    const { stdin, stdout, stderr } = this.context;
    if (this.password !== undefined)
      stderr.write('warning: --password is visible in the process list; ST_KEY_PASSWORD or the prompt keep it private\n');
    const made = await this.context.app.keygen({
      outputDir: this.output,
      password: this.password,
      askPassword: (prompt, options) => askPassword(stdin, stderr, prompt, options),
    });
    stdout.write(
      `private key ${made.privateKeyPath} (encrypted, mode 0600)\n` +
        `public key  ${made.publicKeyPath}\n` +
        `fingerprint ${made.fingerprint}\n` +
        `allow-list line (for a receiver's ST_AUTHORIZED_KEYS file):\n${made.publicKeyLine}\n`,
    );
    return EXIT_OK;
  }
}
