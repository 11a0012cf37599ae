// What scripts and logs get from the CLI: no colour codes where output is not a terminal,
// NDJSON events with --json (docs/cli.md#events), a quiet human send when stderr is a file, and
// the demo that cleans up after itself.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EVENTS_VERSION } from '../../src/adapters/cli/events.js';
import { freePort, makePeer, runCli, spawnCli } from '../support/cli.js';
import { cliPath, projectRoot } from '../support/paths.js';

const ESC = '\u001b';

function events(text: string): Record<string, unknown>[] {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.map((line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    assert.equal(event['v'], EVENTS_VERSION, line);
    assert.equal(typeof event['event'], 'string', line);
    return event;
  });
}

describe('CLI output for scripts and logs', { timeout: 180_000 }, () => {
  it('colours help and errors only when asked to: never into a pipe, FORCE_COLOR on, NO_COLOR off', async () => {
    const env = makePeer('colors').env;
    const piped = await runCli(['--help'], env);
    assert.equal(piped.code, 0);
    assert.ok(piped.stdout.includes('securetransfer send'), piped.stdout);
    assert.ok(!piped.stdout.includes(ESC), 'help into a pipe carries escape codes');
    const sendHelp = await runCli(['send', '--help'], env);
    assert.ok(!sendHelp.stdout.includes(ESC));
    const usage = await runCli(['send', '--no-such-flag'], env);
    assert.equal(usage.code, 2);
    assert.ok(!usage.stderr.includes(ESC), 'an error into a pipe carries escape codes');
    assert.ok((await runCli(['--help'], { ...env, FORCE_COLOR: '1' })).stdout.includes(ESC), 'FORCE_COLOR=1 colours');
    assert.ok(!(await runCli(['--help'], { ...env, FORCE_COLOR: '1', NO_COLOR: '1' })).stdout.includes(ESC), 'NO_COLOR wins');
  });

  it("prints the package's version for --version and -v, as the command line's own version command does", async () => {
    const env = makePeer('version').env;
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag], env);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${version}\n`, flag);
    }
    // With anything else on the line, the full command line answers (and refuses what it does not know).
    const withMore = await runCli(['--version', '--no-such-flag'], env);
    assert.equal(withMore.code, 2);
  });

  it('prints send --json and receive --json as NDJSON, the last line the completed event of the id status --json shows', async () => {
    const receiverPeer = makePeer('json-receiver');
    const sender = makePeer('json-sender');
    const port = await freePort();
    // stdout alone: the receiver's log goes to stderr, and nothing but events may reach stdout.
    const receiver = spawn(process.execPath, [cliPath, 'receive', '--json', '--host', '127.0.0.1', '--port', String(port)], {
      env: receiverPeer.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let receiverOut = '';
    receiver.stderr.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening event: ${receiverOut}`)), 30_000);
      receiver.stdout.on('data', (d: Buffer) => {
        receiverOut += d.toString();
        if (receiverOut.includes('"event":"listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const receiverExited = new Promise<number | null>((resolve) => receiver.once('exit', resolve));
    const path = join(sender.dir, 'events.bin');
    writeFileSync(
      path,
      new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 31) % 253),
    );
    const sent = await runCli(['send', '--json', '--host', '127.0.0.1', '--port', String(port), '--file', path], sender.env);
    assert.equal(sent.code, 0, sent.stderr);
    const sendEvents = events(sent.stdout);
    const started = sendEvents[0]!;
    const last = sendEvents.at(-1)!;
    assert.equal(started['event'], 'started');
    assert.equal(started['size'], 6 * 1024 * 1024);
    assert.match(String((started['receiver'] as Record<string, unknown>)['fingerprint']), /^SHA256:/);
    assert.equal(last['event'], 'completed');
    assert.equal(last['transferId'], started['transferId']);
    const progress = sendEvents.filter((e) => e['event'] === 'progress');
    assert.ok(progress.length >= 1, 'at least the final progress event');
    assert.equal(progress.at(-1)!['bytes'], 6 * 1024 * 1024);
    const seconds = Number(last['seconds']);
    assert.ok(progress.length <= Math.ceil(seconds * 4) + 2, `${progress.length} progress events in ${seconds} s`);
    // Where each pipeline waited, by cause, within the time its pieces took.
    const waitsOf = (event: Record<string, unknown>, causes: string[]) => {
      const report = event['waits'] as { seconds: number; waits: Record<string, number> };
      assert.deepEqual(Object.keys(report.waits).sort(), [...causes].sort());
      assert.ok(report.seconds > 0 && report.seconds <= seconds, `${report.seconds} s of pieces in a send of ${seconds} s`);
      for (const cause of causes) assert.ok(report.waits[cause]! >= 0 && report.waits[cause]! <= report.seconds, cause);
    };
    waitsOf(last, ['window', 'source', 'socket']);
    const status = await runCli(['status', '--transfer-id', String(last['transferId']), '--json'], sender.env);
    const records = JSON.parse(status.stdout) as { id: string; status: string }[];
    assert.deepEqual(
      records.map((r) => [r.id, r.status]),
      [[last['transferId'], 'completed']],
    );

    receiver.kill('SIGTERM');
    assert.equal(await receiverExited, 0);
    const received = events(receiverOut);
    assert.deepEqual(
      received.map((e) => e['event']),
      ['listening', 'transfer-started', 'transfer-completed', 'stopping'],
    );
    assert.equal(received[1]!['transferId'], last['transferId']);
    assert.equal(received[1]!['name'], 'events.bin');
    waitsOf(received[2]!, ['network', 'disk', 'buffers', 'socket']);
  });

  it('prints a failed event with the code and exit status when a send with --json cannot run', async () => {
    const sender = makePeer('json-failed');
    const path = join(sender.dir, 'nowhere.bin');
    writeFileSync(path, 'x');
    const failed = await runCli(['send', '--json', '--host', '127.0.0.1', '--port', String(await freePort()), '--file', path], sender.env);
    assert.equal(failed.code, 1);
    const [only, ...rest] = events(failed.stdout);
    assert.deepEqual(rest, []);
    assert.equal(only!['event'], 'failed');
    assert.equal(only!['code'], 'E_CONNECTION_LOST');
    assert.equal(only!['exitCode'], 1);
    const missing = await runCli(['send', '--json', '--host', '127.0.0.1', '--file', join(sender.dir, 'absent')], sender.env);
    assert.equal(missing.code, 1);
    assert.equal(events(missing.stdout)[0]!['event'], 'failed');
  });

  it('ends stdout with a failed event for a usage error, and for a receiver that cannot start', async () => {
    const peer = makePeer('json-usage');
    const usage = await runCli(['send', '--json', '--file', 'x', '--compression-level', 'fast'], peer.env);
    assert.equal(usage.code, 2);
    const [only, ...rest] = events(usage.stdout);
    assert.deepEqual(rest, []);
    assert.deepEqual([only!['event'], only!['code'], only!['exitCode']], ['failed', 'E_USAGE', 2]);
    const unknown = await runCli(['send', '--json', '--no-such-flag'], peer.env);
    assert.deepEqual(
      events(unknown.stdout).map((e) => [e['event'], e['code']]),
      [['failed', 'E_USAGE']],
    );
    const holder = spawnCli(['receive', '--host', '127.0.0.1', '--port', String(await freePort())], peer.env);
    const [, port] = await holder.waitFor(/receiving on 127\.0\.0\.1:(\d+)/);
    const second = await runCli(['receive', '--json', '--host', '127.0.0.1', '--port', port!], {
      ...peer.env,
      DB_PATH: join(peer.dir, 'b.db'),
    });
    holder.process.kill('SIGTERM');
    await holder.exited;
    assert.equal(second.code, 2);
    const lines = events(second.stdout);
    assert.deepEqual([lines.at(-1)!['event'], lines.at(-1)!['exitCode']], ['failed', 2]);
  });

  it('draws no progress bar when stderr is not a terminal: the start and final lines only', async () => {
    const receiverPeer = makePeer('quiet-receiver');
    const sender = makePeer('quiet-sender');
    const port = await freePort();
    const receiver = spawnCli(['receive', '--host', '127.0.0.1', '--port', String(port)], receiverPeer.env);
    await receiver.waitFor(/host key fingerprint/);
    const path = join(sender.dir, 'quiet.bin');
    writeFileSync(path, new Uint8Array(3 * 1024 * 1024));
    const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(port), '--file', path], sender.env);
    receiver.process.kill('SIGTERM');
    await receiver.exited;
    assert.equal(sent.code, 0);
    assert.ok(!sent.stderr.includes('\r') && !sent.stderr.includes('%'), `progress drawn into a file: ${JSON.stringify(sent.stderr)}`);
    const lines = sent.stdout.trim().split('\n');
    assert.equal(lines.length, 2, sent.stdout);
    assert.match(lines[1]!, /completed and verified/);
  });

  it('finishes the transfer and exits 0 when the reader of its --json output goes away after the first line', async () => {
    const receiverPeer = makePeer('closed-pipe-receiver');
    const sender = makePeer('closed-pipe-sender');
    const port = await freePort();
    const receiver = spawnCli(['receive', '--host', '127.0.0.1', '--port', String(port)], receiverPeer.env);
    await receiver.waitFor(/host key fingerprint/);
    const path = join(sender.dir, 'piped.bin');
    writeFileSync(
      path,
      new Uint8Array(24 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24),
    );
    const send = spawn(process.execPath, [cliPath, 'send', '--json', '--host', '127.0.0.1', '--port', String(port), '--file', path], {
      env: { ...sender.env, ST_RATE_LIMIT_BYTES_PER_SEC: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    send.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // As `| head -1` does: read one line, then close the pipe while progress events still come.
    await new Promise<void>((resolve) => send.stdout.once('data', () => resolve()));
    send.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => send.once('exit', resolve));
    receiver.process.kill('SIGTERM');
    await receiver.exited;
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
    assert.equal(execFileSync('cmp', [path, join(receiverPeer.dir, 'received', 'piped.bin')]).length, 0);
  });

  it('runs the demo to the end on its own and leaves no process behind', async () => {
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(projectRoot, 'scripts', 'demo.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /received copy identical: true/);
    const left = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((l) => l.includes('securetransfer-demo-'));
    assert.deepEqual(left, [], 'a demo process is still running');
  });
});
