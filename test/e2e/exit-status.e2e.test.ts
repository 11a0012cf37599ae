// Every exit status the commands document (their --help and the README's table, both from
// EXIT_STATUSES) happens for real, with the built CLI as a separate process.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_STATUSES, type CommandName } from '../../src/adapters/cli/exit-codes.js';
import { freePort, makePeer, runCli, spawnCli, startReceiver, type Peer } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';

const PASSWORD = 'correct horse battery';
const UNKNOWN_ID = '1b4e28ba-2fa1-4d2e-883f-0016d3cca427';

/** Makes one documented status happen; returns the exit code the command gave and what it printed. */
type Case = (peer: Peer) => Promise<Ran>;
interface Ran {
  readonly code: number | null;
  readonly text: string;
}

const run = async (args: string[], peer: Peer, env: NodeJS.ProcessEnv = {}): Promise<Ran> => {
  const result = await runCli(args, { ...peer.env, ...env });
  return { code: result.code, text: result.stdout + result.stderr };
};

/** What a status 1 or 2 must say, so that an unexpected crash (also 1) cannot pass for it. */
const SAYS: Record<string, RegExp> = {
  'send 1': /E_CONNECTION_LOST/,
  'send 2': /Invalid value for --compression-level/i,
  'resume 1': /E_UNKNOWN_TRANSFER/,
  'resume 2': /--transfer-id/,
  'receive 1': /E_BAD_PASSWORD/,
  'receive 2': /E_CONFIG: cannot listen/,
  'status 1': /no transfer with id/,
  'status 2': /status needs --transfer-id ID or --all/,
  'audit 2': /is not an IP address/,
  'keygen 1': /E_FILE_EXISTS|already exists/,
  'keygen 2': /8 characters/,
};

async function withReceiver<T>(peer: Peer, body: (port: number) => Promise<T>): Promise<T> {
  const receiver = await startReceiver(peer);
  try {
    return await body(receiver.port);
  } finally {
    await receiver.stop();
  }
}

function file(peer: Peer, name: string): string {
  const path = join(peer.dir, name);
  writeFileSync(path, `exit status test ${name}\n`);
  return path;
}

/** The id a failed send printed. */
function transferIdIn(text: string): string {
  const m = /transfer ([0-9a-f-]{36})/.exec(text);
  assert.ok(m, `no transfer id in:\n${text}`);
  return m[1]!;
}

const cases: Record<CommandName, Partial<Record<0 | 1 | 2, Case>>> = {
  send: {
    0: (peer) =>
      withReceiver(peer, (port) => run(['send', '--host', '127.0.0.1', '--port', String(port), '--file', file(peer, 'a.txt')], peer)),
    1: async (peer) => run(['send', '--host', '127.0.0.1', '--port', String(await freePort()), '--file', file(peer, 'b.txt')], peer),
    2: (peer) => run(['send', '--file', file(peer, 'c.txt'), '--compression-level', 'fast'], peer),
  },
  resume: {
    0: async (peer) => {
      // A send to a port nobody listens on fails and is recorded; the resume then completes.
      const port = await freePort();
      const path = file(peer, 'd.txt');
      const failed = await runCli(['send', '--host', '127.0.0.1', '--port', String(port), '--file', path], peer.env);
      assert.equal(failed.code, 1);
      const id = transferIdIn(failed.stdout + failed.stderr);
      const receiver = await startReceiver(peer, port);
      try {
        return await run(['resume', '--transfer-id', id, '--host', '127.0.0.1', '--port', String(port), '--file', path], peer);
      } finally {
        await receiver.stop();
      }
    },
    1: (peer) => run(['resume', '--transfer-id', UNKNOWN_ID, '--host', '127.0.0.1', '--file', file(peer, 'e.txt')], peer),
    2: (peer) => run(['resume', '--host', '127.0.0.1', '--file', file(peer, 'f.txt')], peer),
  },
  receive: {
    0: async (peer) => {
      const receiver = await startReceiver(peer);
      return { code: await receiver.stop(), text: receiver.output() };
    },
    1: async (peer) => {
      const keys = join(peer.dir, 'hostkey');
      assert.equal((await run(['keygen', '--output', keys], peer, { ST_KEY_PASSWORD: PASSWORD })).code, 0);
      const args = ['receive', '--host', '127.0.0.1', '--port', String(await freePort()), '--key', join(keys, 'id_x25519')];
      return run(args, peer, { ST_KEY_PASSWORD: 'not the password' });
    },
    2: async (peer) => {
      // A port another receiver holds.
      const holder = await startReceiver(peer);
      try {
        return await run(['receive', '--host', '127.0.0.1', '--port', String(holder.port)], peer, { DB_PATH: join(peer.dir, 'other.db') });
      } finally {
        await holder.stop();
      }
    },
  },
  status: {
    0: (peer) => run(['status', '--all'], peer),
    1: (peer) => run(['status', '--transfer-id', UNKNOWN_ID], peer),
    2: (peer) => run(['status'], peer),
  },
  audit: {
    0: (peer) => run(['audit'], peer),
    2: (peer) => run(['audit', '--address', 'not-an-address'], peer),
  },
  keygen: {
    0: (peer) => run(['keygen', '--output', join(peer.dir, 'k0')], peer, { ST_KEY_PASSWORD: PASSWORD }),
    1: async (peer) => {
      const dir = join(peer.dir, 'k1');
      assert.equal((await run(['keygen', '--output', dir], peer, { ST_KEY_PASSWORD: PASSWORD })).code, 0);
      return run(['keygen', '--output', dir], peer, { ST_KEY_PASSWORD: PASSWORD });
    },
    2: (peer) => run(['keygen', '--output', join(peer.dir, 'k2')], peer, { ST_KEY_PASSWORD: 'short' }),
  },
};

describe('documented exit statuses', { timeout: 300_000 }, () => {
  it('has a case for exactly the statuses each command documents, and a message for each failure', () => {
    for (const [command, statuses] of Object.entries(EXIT_STATUSES)) {
      assert.deepEqual(Object.keys(cases[command as CommandName]), Object.keys(statuses), command);
      for (const status of Object.keys(statuses)) if (status !== '0') assert.ok(SAYS[`${command} ${status}`], `${command} ${status}`);
    }
  });

  it("lists the same statuses in the README's table as in the commands' help", async () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| (send|resume|receive|status|audit|keygen) \| (\d) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    const documented = Object.entries(EXIT_STATUSES).flatMap(([command, statuses]) =>
      Object.entries(statuses).map(([status, meaning]) => [command, status, meaning]),
    );
    assert.deepEqual(rows, documented);
    for (const command of Object.keys(EXIT_STATUSES)) {
      const help = await runCli([command, '--help'], makePeer('help').env);
      const flat = help.stdout.replace(/\s+/g, ' ');
      for (const [status, meaning] of Object.entries(EXIT_STATUSES[command as CommandName])) {
        assert.ok(flat.includes(`${status} ${meaning}`), `${command} --help lacks "${status} ${meaning}"`);
      }
    }
  });

  for (const [command, statuses] of Object.entries(cases)) {
    for (const [status, make] of Object.entries(statuses)) {
      it(`${command} exits ${status}: ${EXIT_STATUSES[command as CommandName][Number(status) as 0 | 1 | 2]}`, async () => {
        const peer = makePeer(`exit-${command}-${status}`);
        const ran = await make(peer);
        assert.equal(ran.code, Number(status), ran.text);
        const says = SAYS[`${command} ${status}`];
        if (says) assert.match(ran.text, says);
        if (Number(status) !== 0) assert.doesNotMatch(ran.text, /unexpected failure/);
      });
    }
  }

  it('a receiver stopped with SIGINT exits 0 too', async () => {
    const peer = makePeer('exit-sigint');
    const receiver = spawnCli(['receive', '--host', '127.0.0.1', '--port', String(await freePort())], peer.env);
    await receiver.waitFor(/host key fingerprint/);
    receiver.process.kill('SIGINT');
    assert.equal(await receiver.exited, 0);
  });
});
