// docs/requirements.md#command-line: exit statuses are stable and documented. This table is the
// one source: each command's --help prints its rows, the README repeats them, and
// test/e2e/exit-status.e2e.test.ts makes every documented status happen and checks both.
export const EXIT_OK = 0;
export const EXIT_TRANSFER_FAILED = 1;
export const EXIT_USAGE = 2;

export type CommandName = 'send' | 'resume' | 'receive' | 'status' | 'audit' | 'keygen';

/** What each status means, per command. */
export const EXIT_STATUSES: Readonly<Record<CommandName, Readonly<Partial<Record<0 | 1 | 2, string>>>>> = {
  send: {
    0: 'sent and verified by the receiver',
    1: 'the transfer failed (refused, connection lost, untrusted key, unreadable file)',
    2: 'usage or configuration error (an unknown flag, an invalid value or variable)',
  },
  resume: {
    0: 'completed and verified by the receiver',
    1: 'the transfer failed or cannot resume (an unknown transfer id, a changed file, connection lost)',
    2: 'usage or configuration error',
  },
  receive: {
    0: 'shut down cleanly on SIGINT or SIGTERM',
    1: 'the host key cannot be unlocked (a wrong password)',
    2: 'usage or configuration error (an invalid variable, a port in use, an unreadable allow-list)',
  },
  status: {
    0: 'the transfer was found (or --all listed)',
    1: 'no transfer with that id',
    2: 'usage error (neither --transfer-id nor --all)',
  },
  audit: {
    0: 'the events were listed',
    2: 'usage error (an invalid filter)',
  },
  keygen: {
    0: 'the key pair was written',
    1: 'the key cannot be written (a key already there)',
    2: 'usage error (a password under 8 characters)',
  },
};

/** The --help sentence for a command's exit statuses. */
export function exitStatusHelp(command: CommandName): string {
  const rows = Object.entries(EXIT_STATUSES[command]).map(([status, meaning]) => `${status} ${meaning}`);
  return `Exit status: ${rows.join('; ')}.`;
}

/** The status for an error that stopped a command: usage and configuration errors are 2, the rest 1. */
export function exitCodeFor(code: string): number {
  return code === 'E_CONFIG' || code === 'E_USAGE' ? EXIT_USAGE : EXIT_TRANSFER_FAILED;
}
