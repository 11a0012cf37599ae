// Entry point: parse the command line, run the command, map failures to exit statuses
// (docs/requirements.md#command-line: 0 success, 1 transfer failure, 2 usage or configuration error).
import { Builtins, Cli } from 'clipanion';
import { colorsFor } from '../adapters/cli/color.js';
import { EXIT_TRANSFER_FAILED, EXIT_USAGE, exitCodeFor } from '../adapters/cli/exit-codes.js';
import { AuditCommand } from '../adapters/cli/audit-command.js';
import { KeygenCommand } from '../adapters/cli/keygen-command.js';
import { ReceiveCommand } from '../adapters/cli/receive-command.js';
import { EventWriter } from '../adapters/cli/events.js';
import { ResumeCommand, SendCommand, TransferCommand } from '../adapters/cli/send-command.js';
import { StatusCommand } from '../adapters/cli/status-command.js';
import { escapeText } from '../domain/escape-text.js';
import { SecureTransferError, type ErrorCode } from '../domain/errors.js';
import { lazyCliApp } from './lazy-cli-app.js';
import { VERSION } from './version.js';

/** Commands that take --json. */
const JSON_COMMANDS = ['send', 'resume', 'receive'];
const OWN_COMMANDS = [ReceiveCommand, SendCommand, StatusCommand, ResumeCommand, KeygenCommand, AuditCommand];

/** Escapes each line of a message, keeping our own line breaks. */
const escapeLines = (text: string) => text.split('\n').map(escapeText).join('\n');

/**
 * A reader that goes away (`send --json | head -1`) must not crash a transfer in the middle:
 * output to a closed pipe is dropped and the command runs to its end and exit status.
 */
function dropOutputToClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  dropOutputToClosedPipes();
  // Help goes to stdout, errors to stderr: each is coloured only where it lands on a terminal.
  const colorOut = colorsFor(process.env, Boolean(process.stdout.isTTY));
  const colorErr = colorsFor(process.env, Boolean(process.stderr.isTTY));
  const cli = new Cli({ binaryLabel: 'SecureTransfer', binaryName: 'securetransfer', binaryVersion: VERSION, enableColors: colorOut });
  for (const command of [...OWN_COMMANDS, Builtins.HelpCommand, Builtins.VersionCommand]) cli.register(command);
  const context = { ...Cli.defaultContext, colorDepth: colorOut ? 8 : 1, app: lazyCliApp(process.env) };
  // With --json a script reads stdout: whatever stops the command, its last line is a failed event.
  const events = argv.includes('--json') && JSON_COMMANDS.includes(argv[0] ?? '') ? new EventWriter(process.stdout) : undefined;
  let reported = false;
  const failed = (code: ErrorCode, message: string, exitCode: number): number => {
    if (!reported) events?.emit({ event: 'failed', transferId: null, code, message, exitCode });
    return exitCode;
  };
  let command;
  try {
    command = cli.process(argv, context);
  } catch (e) {
    process.stderr.write(cli.error(e, { colored: colorErr }));
    return failed('E_USAGE', (e as Error).message, EXIT_USAGE);
  }
  // Help and version need the wiring that run() gives a command; ours map errors themselves.
  if (command.help || !OWN_COMMANDS.some((c) => command instanceof c)) {
    return cli.run(command, context);
  }
  try {
    return (await command.validateAndExecute()) ?? 0;
  } catch (e) {
    // A send or resume with --json has already reported it with its transfer id.
    reported = command instanceof TransferCommand && command.failureReported;
    if (e instanceof SecureTransferError) {
      process.stderr.write(`error: ${e.code}: ${escapeLines(e.message)}\n`);
      return failed(e.code, e.message, exitCodeFor(e.code));
    }
    if (e instanceof Error && e.name === 'UsageError') {
      process.stderr.write(cli.error(e, { colored: colorErr }));
      return failed('E_USAGE', e.message, EXIT_USAGE);
    }
    process.stderr.write(`error: unexpected failure: ${(e as Error).stack ?? String(e)}\n`);
    return failed('E_INTERNAL', (e as Error).message, EXIT_TRANSFER_FAILED);
  }
}
