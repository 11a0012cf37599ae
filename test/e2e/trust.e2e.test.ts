// Keys and trust end to end, as separate processes: keygen, sealed keys in use, the allow-list, and a
// man in the middle with keys of its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, makePeer, runCli, startReceiver, type Peer } from '../support/cli.js';
import { sha256File } from '../support/files.js';
import { cliPath } from '../support/paths.js';
import { startSwitchProxy } from '../support/switch-proxy.js';

const PASSWORD = 'tr0ub4dor & 3 horses';

async function keygen(peer: Peer, dir: string, password = PASSWORD) {
  const made = await runCli(['keygen', '--output', dir], { ...peer.env, ST_KEY_PASSWORD: password });
  assert.equal(made.code, 0, made.stderr);
  const fingerprint = /fingerprint (SHA256:\S+)/.exec(made.stdout)?.[1];
  assert.ok(fingerprint, made.stdout);
  return { key: join(dir, 'id_x25519'), pub: join(dir, 'id_x25519.pub'), fingerprint };
}

describe('keygen and sealed keys', { timeout: 180_000 }, () => {
  it('makes a 0600 sealed key whose .pub names its fingerprint, and the key sends a file', async () => {
    const receiverPeer = makePeer('receiver-keygen');
    const sender = makePeer('sender-keygen');
    const made = await keygen(sender, join(sender.dir, 'keys'));
    assert.equal(statSync(made.key).mode & 0o777, 0o600);
    assert.match(
      readFileSync(made.pub, 'utf8'),
      new RegExp(`^securetransfer-x25519 [A-Za-z0-9+/]{43}= ${made.fingerprint.replace(/[+/]/g, '\\$&')}\\n$`),
    );
    assert.ok(!readFileSync(made.key, 'utf8').includes(PASSWORD));

    const source = join(sender.dir, 'with-keygen-key.txt');
    writeFileSync(source, 'sent with a sealed identity');
    const r = await startReceiver(receiverPeer);
    try {
      const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source, '--identity', made.key], {
        ...sender.env,
        ST_KEY_PASSWORD: PASSWORD,
      });
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(await sha256File(join(receiverPeer.dir, 'received', 'with-keygen-key.txt')), await sha256File(source));
      assert.match(
        r.output(),
        new RegExp(`audit handshake\\.succeeded .*${made.fingerprint.replace(/[+/]/g, '\\$&')}`),
        'the receiver saw the keygen key',
      );

      const wrong = await runCli(['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source, '--identity', made.key], {
        ...sender.env,
        ST_KEY_PASSWORD: 'not the password',
      });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /E_BAD_PASSWORD: wrong password for the key/);
    } finally {
      await r.stop();
    }
  });

  it('serves with a sealed host key whose password came from the environment, never from argv', async () => {
    const receiverPeer = makePeer('receiver-sealed');
    const made = await keygen(receiverPeer, join(receiverPeer.dir, 'hostkey'));
    const r = await startReceiver(receiverPeer, undefined, { ST_KEY_PASSWORD: PASSWORD }, ['--key', made.key]);
    try {
      assert.equal(r.fingerprint, made.fingerprint);
      const argv = readFileSync(`/proc/${r.process.pid}/cmdline`, 'utf8');
      assert.ok(argv.includes('--key') && !argv.includes(PASSWORD), 'the password is not among the arguments');
    } finally {
      await r.stop();
    }
    const wrongPassword = await runCli(['receive', '--host', '127.0.0.1', '--port', String(await freePort()), '--key', made.key], {
      ...receiverPeer.env,
      ST_KEY_PASSWORD: 'not the password',
    });
    assert.equal(wrongPassword.code, 1);
    assert.match(wrongPassword.stderr, /wrong password/);
  });

  // script(1) comes from Debian's bsdutils (essential); .ci/run installs it where it is missing.
  it('asks for the password on a terminal without echoing it', async () => {
    const peer = makePeer('keygen-prompt');
    const out = join(peer.dir, 'keys');
    // script(1) gives keygen a pseudo-terminal; we type only once the prompt is shown, so any
    // echo would come from our code, not from the terminal's line discipline.
    const child = spawn(
      'script',
      ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} keygen --output ${JSON.stringify(out)}`, '/dev/null'],
      {
        env: peer.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let transcript = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${transcript}`)), 30_000);
        const check = () => {
          if (transcript.includes(text)) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (d: Buffer) => (transcript += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor('password for the new key');
    child.stdin.write(`${PASSWORD}\r`);
    await waitFor('the same password again');
    child.stdin.write(`${PASSWORD}\r`);
    assert.equal(await exited, 0, transcript);
    assert.match(transcript, /fingerprint SHA256:/);
    assert.ok(!transcript.includes(PASSWORD), `the password was echoed:\n${transcript}`);
    // The key opens with the password that was typed.
    const r = await startReceiver(peer, undefined, { ST_KEY_PASSWORD: PASSWORD }, ['--key', join(out, 'id_x25519')]);
    await r.stop();
  });

  it('takes the password from stdin when it is not a terminal, and refuses a short one', async () => {
    const peer = makePeer('keygen-stdin');
    const run = (dir: string, input: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cliPath, 'keygen', '--output', dir], { env: peer.env, stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
        child.stdin.end(input);
      });
    const ok = await run(join(peer.dir, 'a'), `${PASSWORD}\n`);
    assert.equal(ok.code, 0, ok.stderr);
    const short = await run(join(peer.dir, 'b'), 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 8 characters/);
    assert.equal(existsSync(join(peer.dir, 'b', 'id_x25519')), false);
  });
});

describe('the receiver allow-list', { timeout: 120_000 }, () => {
  it('lets a listed key send and refuses an unlisted one, audited with its fingerprint', async () => {
    const receiverPeer = makePeer('receiver-allow');
    const alice = makePeer('sender-alice');
    const mallory = makePeer('sender-mallory');
    const aliceKey = await keygen(alice, join(alice.dir, 'keys'));
    const list = join(receiverPeer.dir, 'authorized_keys');
    writeFileSync(list, `# who may send\n${readFileSync(aliceKey.pub, 'utf8')}`);
    const source = join(alice.dir, 'allowed.txt');
    writeFileSync(source, 'from alice');
    const r = await startReceiver(receiverPeer, undefined, {}, ['--authorized-keys', list]);
    try {
      assert.match(r.output(), /only the 1 client key\(s\) listed/);
      const refused = await runCli(['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source], mallory.env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /E_UNTRUSTED_KEY/);
      assert.equal(existsSync(join(receiverPeer.dir, 'received', 'allowed.txt')), false);
      const malloryFingerprint = /created this sender's identity key .* \(fingerprint (SHA256:\S+)\)/.exec(refused.stderr)?.[1];
      assert.ok(malloryFingerprint, refused.stderr);
      assert.match(r.output(), new RegExp(`audit handshake\\.failed .*${malloryFingerprint.replace(/[+/]/g, '\\$&')}.*E_UNTRUSTED_KEY`));

      const allowed = await runCli(
        ['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source, '--identity', aliceKey.key],
        { ...alice.env, ST_KEY_PASSWORD: PASSWORD },
      );
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(readFileSync(join(receiverPeer.dir, 'received', 'allowed.txt'), 'utf8'), 'from alice');
    } finally {
      await r.stop();
    }
  });

  it('refuses to start with an allow-list it cannot read, naming the line', async () => {
    const peer = makePeer('receiver-badlist');
    const list = join(peer.dir, 'authorized_keys');
    writeFileSync(list, 'ssh-rsa AAAAB3 someone\n');
    const r = await runCli(['receive', '--host', '127.0.0.1', '--port', String(await freePort()), '--authorized-keys', list], peer.env);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`${list}:1`), r.stderr);
  });
});

describe('a man in the middle', { timeout: 120_000 }, () => {
  it('is refused by a sender that met the real receiver before, and gets no file', async () => {
    const real = makePeer('receiver-real');
    const attacker = makePeer('receiver-attacker');
    const sender = makePeer('sender-mitm');
    const source = join(sender.dir, 'payroll.csv');
    writeFileSync(source, 'name,salary\n');
    const realReceiver = await startReceiver(real);
    const attackerReceiver = await startReceiver(attacker);
    const proxy = await startSwitchProxy(realReceiver.port);
    try {
      const first = await runCli(['send', '--host', '127.0.0.1', '--port', String(proxy.port), '--file', source], sender.env);
      assert.equal(first.code, 0, first.stderr);
      // The attacker takes over the path and terminates connections with its own key.
      proxy.target(attackerReceiver.port);
      const second = await runCli(['send', '--host', '127.0.0.1', '--port', String(proxy.port), '--file', source], sender.env);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /E_UNTRUSTED_KEY: WARNING: the key of 127\.0\.0\.1:\d+ has changed/);
      assert.ok(second.stderr.includes(realReceiver.fingerprint) && second.stderr.includes(attackerReceiver.fingerprint));
      assert.equal(existsSync(join(attacker.dir, 'received', 'payroll.csv')), false, 'the attacker got no file');
      assert.doesNotMatch(attackerReceiver.output(), /transfer\.started/, 'no manifest reached the attacker');
    } finally {
      await proxy.close();
      await realReceiver.stop();
      await attackerReceiver.stop();
    }
  });
});
