import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import type { SessionOutcome, StartedTransfer } from '../../application/session-host.js';
import { escapeText } from '../../domain/escape-text.js';
import type { CliContext } from './cli-app-port.js';
import { EventWriter, type CliEvent } from './events.js';
import { EXIT_OK, exitStatusHelp } from './exit-codes.js';
import { askPassword } from './password-prompt.js';

export class ReceiveCommand extends Command<CliContext> {
  static override paths = [['receive']];
  static override usage = Command.Usage({
    description: 'Run the receiver: accept files into an output folder until SIGINT or SIGTERM.',
    details: `
      The configuration comes from the environment (ST_* variables, see README) and is validated
      first; the flags override ST_HOST, ST_PORT and ST_OUTPUT_DIR. On first start a host key is
      generated (ST_HOST_KEY_PATH) unless --key names one made by keygen (its password from
      ST_KEY_PASSWORD or a prompt); the fingerprint is printed at every start so senders can pin
      it. With an allow-list (--authorized-keys or ST_AUTHORIZED_KEYS) only the listed sender keys
      get past the handshake; others are refused and audited.
      With --json, stdout carries one JSON event per line instead (listening, transfer-started,
      transfer-completed, transfer-failed, refused, stopping; docs/cli.md#events).
      ${exitStatusHelp('receive')}
    `,
    examples: [
      ['Receive into ./received on the default port 9000', '$0 receive --output-dir ./received'],
      ['Listen on loopback only, port 9100', '$0 receive --host 127.0.0.1 --port 9100 --output-dir /srv/incoming'],
      ['Use a keygen key and accept only listed senders', '$0 receive --key ./keys/id_x25519 --authorized-keys ./authorized_keys'],
    ],
  });

  host = Option.String('--host', { description: 'Bind address (default ST_HOST or 0.0.0.0)' });
  port = Option.String('--port', {
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1024, 65535)]),
    description: 'Port 1024-65535 (default ST_PORT or 9000)',
  });
  outputDir = Option.String('--output-dir', { description: 'Folder for received files (default ST_OUTPUT_DIR or ./received)' });
  key = Option.String('--key', { description: 'Host key made by keygen (default ST_HOST_KEY_PATH, generated on first start)' });
  authorizedKeys = Option.String('--authorized-keys', {
    description: 'Allow-list of sender keys (default ST_AUTHORIZED_KEYS; none = any key)',
  });

  json = Option.Boolean('--json', false, { description: 'Print events as JSON lines (NDJSON) on stdout, see docs/cli.md' });

  async execute(): Promise<number> {
    const { stdout } = this.context;
    const events = this.json ? new EventWriter(stdout) : undefined;
    const line = (text: string) => stdout.write(`${text}\n`);
    const running = await this.context.app.receive({
      host: this.host,
      port: this.port,
      outputDir: this.outputDir,
      keyPath: this.key,
      authorizedKeysPath: this.authorizedKeys,
      askPassword: (prompt, options) => askPassword(this.context.stdin, this.context.stderr, prompt, options),
      // A person sees each transfer when it ends (the lines as before); a script also sees it start.
      onTransferStarted: (t) => events?.emit({ event: 'transfer-started', ...startedFields(t) }),
      onSessionEnded: (o) => (events ? events.emit(sessionEvent(o)) : line(sessionLine(o))),
    });
    // The handlers come before the line that says the receiver listens: a supervisor (or a test)
    // that reads it may signal at once, and a signal with no handler yet would kill the process.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        if (events) events.emit({ event: 'stopping', signal });
        else line(`${signal}: shutting down; transfers in flight stay resumable`);
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    if (events) {
      events.emit({
        event: 'listening',
        address: running.address,
        outputDir: running.outputDir,
        fingerprint: running.fingerprint,
        clients: running.clientPolicy,
      });
    } else {
      line(
        `receiving on ${running.address} into ${running.outputDir}\nhost key fingerprint ${running.fingerprint}\n${running.clientPolicy}`,
      );
    }
    await stopped;
    await running.stop();
    return EXIT_OK;
  }
}

function startedFields(t: StartedTransfer) {
  return {
    transferId: t.transferId,
    name: t.fileName,
    size: t.fileSize,
    pieces: t.pieceCount,
    piecesHeld: t.piecesHeld,
    peer: t.peer,
    senderFingerprint: t.senderFingerprint,
  };
}

function sessionEvent(o: SessionOutcome): CliEvent {
  if (o.kind === 'completed') return { event: 'transfer-completed', transferId: o.transferId, path: o.path, waits: o.waits };
  if (o.kind === 'failed') return { event: 'transfer-failed', transferId: o.transferId, code: o.code, message: o.detail };
  return { event: 'refused', reason: o.kind, code: o.code, message: o.detail };
}

/** Every value that may have come from the network is escaped. */
function sessionLine(o: SessionOutcome): string {
  if (o.kind === 'completed') return `received ${o.transferId} -> ${escapeText(o.path)}`;
  if (o.kind === 'failed') return `transfer ${o.transferId} failed: ${o.code}: ${escapeText(o.detail)}`;
  return `connection ${o.kind}: ${o.code}: ${escapeText(o.detail)}`;
}
