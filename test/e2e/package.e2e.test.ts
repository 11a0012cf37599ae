// The npm package as a user gets it: `npm pack` of this tree (already built by `npm test`),
// installed into an empty prefix with `npm install -g --prefix`, native parts compiled from
// source at install, and a transfer between two processes of the installed command. Needs what
// CI has: the npm registry (or npm's cache) for the dependencies, and g++, make and python3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { freePort, makePeer } from '../support/cli.js';
import { projectRoot } from '../support/paths.js';

const run = promisify(execFile);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the npm package', { timeout: 900_000 }, () => {
  it('packs, installs into an empty prefix with its native parts built from source, and transfers a file', async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'st-package-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    // The scripts were run by npm test (build); packing again must not rebuild under running tests.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: projectRoot });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made no tarball');
    const prefix = join(work, 'prefix');
    await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--build-from-source',
        // Node's own headers, installed with it: node-gyp downloads nothing.
        `--nodedir=${dirname(dirname(process.execPath))}`,
        '--allow-scripts=securetransfer,better-sqlite3,zstd-napi',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(work, tarball),
      ],
      { cwd: work, maxBuffer: 64 << 20, timeout: 840_000 },
    );
    const installed = join(prefix, 'lib', 'node_modules', 'securetransfer');
    const bin = join(prefix, 'bin', 'securetransfer');
    for (const compiled of [
      join(installed, 'build', 'Release', 'openssl_aead.node'),
      join(installed, 'node_modules', 'better-sqlite3', 'build', 'Release', 'obj.target'),
      join(installed, 'node_modules', 'zstd-napi', 'build', 'Release', 'obj.target'),
    ]) {
      assert.ok(existsSync(compiled), `not compiled from source at install: ${compiled}`);
    }

    const help = await run(bin, ['--help']);
    assert.match(help.stdout, /securetransfer receive/);
    assert.ok(!help.stdout.includes('\u001b'), 'help into a pipe carries escape codes');

    const receiverPeer = makePeer('package-receiver');
    const sender = makePeer('package-sender');
    const port = await freePort();
    const receiver = execFile(bin, ['receive', '--host', '127.0.0.1', '--port', String(port)], { env: receiverPeer.env });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`the installed receiver did not start:\n${out}`)), 30_000);
        receiver.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('host key fingerprint')) {
            clearTimeout(timer);
            resolve();
          }
        });
        receiver.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      });
      const file = join(sender.dir, 'packaged.bin');
      writeFileSync(
        file,
        new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 256),
      );
      const sent = await run(bin, ['send', '--host', '127.0.0.1', '--port', String(port), '--file', file], { env: sender.env });
      assert.match(sent.stdout, /completed and verified/);
      assert.equal(sha256(join(receiverPeer.dir, 'received', 'packaged.bin')), sha256(file));
    } finally {
      const exited = new Promise((resolve) => receiver.once('exit', resolve));
      receiver.kill('SIGTERM');
      await exited;
    }
  });
});
