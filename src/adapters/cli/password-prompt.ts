// Asks for a password without echo (docs/requirements.md#command-line: secrets never need the command line). On a
// terminal the characters are read in raw mode and never shown; from a pipe the first line is
// taken, so scripts can write the password to stdin instead of an argument.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { SecureTransferError } from '../../domain/errors.js';

type TerminalInput = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = new Set(['\u007f', '\b']);

function readHidden(input: TerminalInput, output: Writable, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    // Echo off first, then the prompt: a fast typist (or a script) answering the prompt must
    // never meet a terminal that still echoes.
    input.setRawMode!(true);
    output.write(prompt);
    input.setEncoding('utf8');
    const finish = (error?: Error) => {
      input.setRawMode!(false);
      input.off('data', onData);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ENTER.has(ch)) return finish();
        if (ch === CTRL_C || (ch === CTRL_D && typed === '')) return finish(new SecureTransferError('E_USAGE', 'password entry cancelled'));
        if (BACKSPACE.has(ch)) typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

function readLine(input: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input, terminal: false });
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolve(line);
    });
    lines.once('close', () => {
      if (!answered)
        reject(
          new SecureTransferError('E_BAD_PASSWORD', 'no password given: set ST_KEY_PASSWORD, run on a terminal, or write it to stdin'),
        );
    });
  });
}

export interface PasswordPromptOptions {
  /** Ask twice on a terminal and insist both match (for a new password). */
  readonly confirm?: boolean;
}

export async function askPassword(input: Readable, output: Writable, prompt: string, options: PasswordPromptOptions = {}): Promise<string> {
  const terminal = input as TerminalInput;
  if (!terminal.isTTY || typeof terminal.setRawMode !== 'function') return readLine(input);
  const first = await readHidden(terminal, output, prompt);
  if (options.confirm) {
    const again = await readHidden(terminal, output, 'the same password again: ');
    if (again !== first) throw new SecureTransferError('E_USAGE', 'the two passwords differ');
  }
  return first;
}
