import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import type { SendOutcome } from '../../application/send-request.js';
import { escapeText } from '../../domain/escape-text.js';
import type { CliContext, SendInput } from './cli-app-port.js';
import { SecureTransferError } from '../../domain/errors.js';
import { EventWriter } from './events.js';
import { EXIT_OK, EXIT_TRANSFER_FAILED, exitCodeFor, exitStatusHelp } from './exit-codes.js';
import { formatBytes } from './format.js';
import { EventDisplay, TextDisplay, type TransferDisplay } from './transfer-display.js';
import { askPassword } from './password-prompt.js';

/** What send and resume share: the flags, the progress display or events, and the final report. */
export abstract class TransferCommand extends Command<CliContext> {
  host = Option.String('--host', 'localhost', { description: 'Receiver host name or address' });
  port = Option.String('--port', {
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 65535)]),
    description: 'Receiver port (default ST_PORT or 9000)',
  });
  file = Option.String('--file', { required: true, description: 'File or folder to send' });
  compressionLevel = Option.String('--compression-level', 'auto', {
    validator: t.isOneOf([t.isLiteral('auto'), t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 19)])], { exclusive: true }),
    description: 'zstd level 1-19 (1-9 with ST_CODEC=codec), 0 for none, or auto: 1-3 as the link allows (default auto)',
  });
  serverKey = Option.String('--server-key', { description: 'Expected receiver fingerprint (SHA256:...)' });
  identity = Option.String('--identity', { description: 'Our key, made by keygen (default ST_IDENTITY_PATH, created on first use)' });
  json = Option.Boolean('--json', false, { description: 'Print events as JSON lines (NDJSON) on stdout, see docs/cli.md' });

  /** A failed event went out already (--json): main.ts must not print a second one. */
  failureReported = false;

  protected abstract run(input: SendInput): Promise<SendOutcome>;

  async execute(): Promise<number> {
    if (!this.json) {
      const display = new TextDisplay(this.context);
      let outcome: SendOutcome;
      try {
        outcome = await this.run(this.input(display));
      } finally {
        display.end();
      }
      return this.report(outcome, display.seconds());
    }
    const events = new EventWriter(this.context.stdout);
    const display = new EventDisplay(events, this.host);
    try {
      const outcome = await this.run(this.input(display));
      if (outcome.ok) {
        events.emit({
          event: 'completed',
          transferId: outcome.transferId,
          size: outcome.fileSize,
          wireBytes: outcome.wireBytes,
          piecesHeld: outcome.piecesHeld,
          seconds: display.seconds(),
          receiverFingerprint: outcome.serverFingerprint,
          ...(outcome.waits ? { waits: outcome.waits } : {}),
        });
        return EXIT_OK;
      }
      events.emit({
        event: 'failed',
        transferId: outcome.transferId,
        code: outcome.code,
        message: outcome.detail,
        exitCode: EXIT_TRANSFER_FAILED,
      });
      return EXIT_TRANSFER_FAILED;
    } catch (e) {
      // Stopped by an error (an unreadable file or key, a database that fails): still one event.
      // main.ts writes the details to stderr and gives the same status.
      const known = e instanceof SecureTransferError;
      const code = known ? e.code : 'E_INTERNAL';
      events.emit({
        event: 'failed',
        transferId: display.transferId ?? null,
        code,
        message: (e as Error).message,
        exitCode: exitCodeFor(code),
      });
      this.failureReported = true;
      throw e;
    }
  }

  private input(display: TransferDisplay): SendInput {
    return {
      host: this.host,
      port: this.port,
      file: this.file,
      compressionLevel: this.compressionLevel,
      serverKey: this.serverKey,
      identityPath: this.identity,
      askPassword: (prompt, options) => askPassword(this.context.stdin, this.context.stderr, prompt, options),
      onStart: (id, m) => display.started(id, m),
      onSkipped: (skipped) => display.skipped(skipped),
      onReceiverKey: (fingerprint, port) => display.receiverKey(fingerprint, port),
      onTrustNote: (note) => this.context.stderr.write(`${note}\n`),
      onProgress: (done, total, pieces) => display.progress(done, total, pieces),
    };
  }

  private report(outcome: SendOutcome, seconds: number): number {
    const { stdout, stderr } = this.context;
    if (outcome.ok) {
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
    description: 'Send a file or a folder to a receiver over an authenticated, encrypted channel.',
    details: `
      A folder travels whole, as one transfer: files and folders, empty ones too, with their
      permission bits and modification times; links and special files are skipped and listed,
      never followed. It appears on the receiver only once all of it is checked (docs/folders.md).
      The receiver's key is pinned on first contact in the known-hosts file (ST_KNOWN_HOSTS);
      a different key later is refused. Prints the transfer id, which \`status\` and \`resume\` take.
      Compression is zstd per piece; --compression-level auto (the default) moves between 1 and 3
      as the link allows: lower while compressing is slower than the network, higher while the
      network is the limit. Pieces that do not shrink are sent raw.
      With --json, stdout carries one JSON event per line (started, progress, completed or
      failed; docs/cli.md#events) and nothing else.
      ${exitStatusHelp('send')}
    `,
    examples: [
      ['Send a file to a receiver on this machine', '$0 send --host 127.0.0.1 --port 9000 --file ./backup.tar'],
      ['Send a folder and everything in it', '$0 send --host files.example.com --file ./photos'],
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
      modification time or a held piece's hash) is refused: send it again as a new transfer. A
      folder is compared entry by entry: one added, removed, resized or touched is refused by name.
      --json prints the same events as send's.
      ${exitStatusHelp('resume')}
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
