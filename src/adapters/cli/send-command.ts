import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import type { SendOutcome } from '../../application/send-request.js';
import { escapeText } from '../../domain/escape-text.js';
import type { CliContext, SendInput } from './cli-app-port.js';
import { EXIT_OK, EXIT_TRANSFER_FAILED } from './exit-codes.js';
import { formatBytes, progressLine } from './format.js';
import { askPassword } from './password-prompt.js';

/** What send and resume share: the flags, the progress bar and the final report. */
abstract class TransferCommand extends Command<CliContext> {
  host = Option.String('--host', 'localhost', { description: 'Receiver host name or address' });
  port = Option.String('--port', {
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 65535)]),
    description: 'Receiver port (default ST_PORT or 9000)',
  });
  file = Option.String('--file', { required: true, description: 'File to send' });
  compressionLevel = Option.String('--compression-level', 'auto', {
    validator: t.isOneOf([t.isLiteral('auto'), t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 19)])], { exclusive: true }),
    description: 'zstd level 1-19 (1-9 with ST_CODEC=codec), 0 for none, or auto: 1-3 as the link allows (default auto)',
  });
  serverKey = Option.String('--server-key', { description: 'Expected receiver fingerprint (SHA256:...)' });
  identity = Option.String('--identity', { description: 'Our key, made by keygen (default ST_IDENTITY_PATH, created on first use)' });

  protected abstract run(input: SendInput): Promise<SendOutcome>;

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const tty = Boolean((stderr as NodeJS.WriteStream).isTTY);
    const started = Date.now();
    let lastDraw = 0;
    const outcome = await this.run({
      host: this.host,
      port: this.port,
      file: this.file,
      compressionLevel: this.compressionLevel,
      serverKey: this.serverKey,
      identityPath: this.identity,
      askPassword: (prompt, options) => askPassword(this.context.stdin, stderr, prompt, options),
      onStart: (id, m) =>
        stdout.write(
          `transfer ${id}: ${m.resume ? 'resuming' : 'sending'} "${escapeText(m.fileName)}" (${formatBytes(m.fileSize)}, ${m.pieceCount} pieces)\n`,
        ),
      onTrustNote: (note) => stderr.write(`${note}\n`),
      onProgress: (done, total) => {
        const now = Date.now();
        if (!tty || (now - lastDraw < 100 && done < total)) return;
        lastDraw = now;
        stderr.write(`\r${progressLine(done, total, now - started)}`);
      },
    });
    if (tty) stderr.write('\n');
    if (outcome.ok) {
      const seconds = (Date.now() - started) / 1000;
      const held =
        outcome.piecesHeld > 0 ? `, ${outcome.piecesHeld} pieces already held by the receiver and checked against the source` : '';
      stdout.write(
        `transfer ${outcome.transferId}: completed and verified by the receiver (${formatBytes(outcome.fileSize)} in ${seconds.toFixed(2)} s, ${formatBytes(outcome.wireBytes)} on the wire${held}, receiver key ${outcome.serverFingerprint})\n`,
      );
      return EXIT_OK;
    }
    stderr.write(`error: transfer ${outcome.transferId} failed: ${outcome.code}: ${escapeText(outcome.detail)}\n`);
    if (outcome.code !== 'E_SOURCE_CHANGED' && outcome.code !== 'E_UNTRUSTED_KEY' && outcome.code !== 'E_ALREADY_COMPLETE') {
      stderr.write(
        `to continue later: securetransfer resume --transfer-id ${outcome.transferId} --host ${this.host}${this.port ? ` --port ${this.port}` : ''} --file ${this.file}\n`,
      );
    }
    return EXIT_TRANSFER_FAILED;
  }
}

export class SendCommand extends TransferCommand {
  static override paths = [['send']];
  static override usage = Command.Usage({
    description: 'Send a file to a receiver over an authenticated, encrypted channel.',
    details: `
      The receiver's key is pinned on first contact in the known-hosts file (ST_KNOWN_HOSTS);
      a different key later is refused. Prints the transfer id, which \`status\` and \`resume\` take.
      Compression is zstd per piece; --compression-level auto (the default) moves between 1 and 3
      as the link allows: lower while compressing is slower than the network, higher while the
      network is the limit. Pieces that do not shrink are sent raw.
      Exit status: 0 sent and verified, 1 the transfer failed, 2 usage or configuration error.
    `,
    examples: [
      ['Send a file to a receiver on this machine', '$0 send --host 127.0.0.1 --port 9000 --file ./backup.tar'],
      ['Compress as hard as possible, for a slow link', '$0 send --host files.example.com --file ./logs.tar --compression-level 19'],
      ['Pin the receiver key explicitly', '$0 send --host files.example.com --file ./data.bin --server-key SHA256:3q2+7w...'],
      [
        'Send as the identity made by keygen (password from ST_KEY_PASSWORD or a prompt)',
        '$0 send --host 10.0.0.5 --file ./data.bin --identity ./keys/id_x25519',
      ],
    ],
  });

  protected run(input: SendInput): Promise<SendOutcome> {
    return this.context.app.send(input);
  }
}

export class ResumeCommand extends TransferCommand {
  static override paths = [['resume']];
  static override usage = Command.Usage({
    description: 'Continue a failed or interrupted transfer, sending only the pieces the receiver lacks.',
    details: `
      Runs where the first send ran (same DB_PATH). A new connection with fresh keys goes to the
      same receiver key; the receiver says which pieces it holds, each is checked against the file
      (SHA-256), and only the others are sent. A file that changed since the first attempt (size,
      modification time or a held piece's hash) is refused: send it again as a new transfer.
      Exit status: 0 completed and verified, 1 failed or refused, 2 usage or configuration error.
    `,
    examples: [
      ['Resume a transfer', '$0 resume --transfer-id 1b4e28ba-2fa1-4d2e-883f-0016d3cca427 --host 10.0.0.5 --port 9000 --file ./data.bin'],
    ],
  });

  transferId = Option.String('--transfer-id', { required: true, description: 'The id printed by send' });

  protected run(input: SendInput): Promise<SendOutcome> {
    return this.context.app.resume({ ...input, transferId: this.transferId });
  }
}
