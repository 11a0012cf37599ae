// Identity key files (keygen's sealed keys and first-start host keys) and the receiver's
// allow-list file, against a real temporary folder.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { KeyFileIdentityStore } from '../../src/adapters/filesystem/key-file-identity-store.js';
import { AuthorizedKeysFile } from '../../src/adapters/trust/authorized-keys-file.js';
import { formatPublicKeyLine } from '../../src/adapters/trust/public-key-line.js';
import { MakeIdentityKey } from '../../src/application/make-identity-key.js';
import { fingerprintOf } from '../../src/domain/fingerprint.js';

const crypto = new NodeCryptoPrimitives();
const FAST = { N: 1024, r: 8, p: 1 }; // the format is the same; only the cost is lower
const dir = () => mkdtempSync(join(tmpdir(), 'st-keys-'));
const codeOf = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

async function makeSealed(password: string) {
  const path = join(dir(), 'id_x25519');
  const writer = new KeyFileIdentityStore(path, crypto, { createIfMissing: false, scrypt: FAST });
  const made = await new MakeIdentityKey(crypto, writer).execute(password);
  return { path, made };
}

describe('sealed identity keys (keygen)', () => {
  it('round-trips: the key loads with its password and matches the .pub fingerprint', async () => {
    const { path, made } = await makeSealed('correct horse battery');
    const loaded = await new KeyFileIdentityStore(path, crypto, {
      createIfMissing: false,
      password: async () => 'correct horse battery',
    }).loadOrCreate();
    assert.equal(loaded.created, false);
    assert.equal(fingerprintOf(loaded.keyPair.publicKey, crypto.sha256), made.fingerprint);
    assert.deepEqual(crypto.publicKeyOf(loaded.keyPair.privateKey), loaded.keyPair.publicKey);
    assert.equal(readFileSync(`${path}.pub`, 'utf8').trim(), formatPublicKeyLine(loaded.keyPair.publicKey, made.fingerprint));
  });

  it('writes the private key with mode 0600 and keeps the key itself out of the file', async () => {
    const { path } = await makeSealed('correct horse battery');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const text = readFileSync(path, 'utf8');
    const file = JSON.parse(text) as { kdf: { name: string; N: number }; cipher: { name: string } };
    assert.equal(file.kdf.name, 'scrypt');
    assert.equal(file.kdf.N, FAST.N, 'the parameters are stored in the file');
    assert.equal(file.cipher.name, 'aes-256-gcm');
    const loaded = await new KeyFileIdentityStore(path, crypto, {
      createIfMissing: false,
      password: async () => 'correct horse battery',
    }).loadOrCreate();
    const hex = Buffer.from(loaded.keyPair.privateKey).toString('hex');
    assert.ok(!text.includes(hex), 'the private key is not in the clear');
  });

  it('refuses a wrong password with E_BAD_PASSWORD', async () => {
    const { path } = await makeSealed('correct horse battery');
    const store = new KeyFileIdentityStore(path, crypto, { createIfMissing: false, password: async () => 'wrong horse battery' });
    await assert.rejects(store.loadOrCreate(), (e: Error) => codeOf('E_BAD_PASSWORD')(e) && /wrong password/.test(e.message));
  });

  it('refuses a file whose clear public key was swapped (it is bound to the ciphertext)', async () => {
    const { path } = await makeSealed('correct horse battery');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { publicKey: string };
    file.publicKey = Buffer.from(crypto.generateKeyPair().publicKey).toString('hex');
    writeFileSync(path, JSON.stringify(file));
    const store = new KeyFileIdentityStore(path, crypto, { createIfMissing: false, password: async () => 'correct horse battery' });
    await assert.rejects(store.loadOrCreate(), codeOf('E_BAD_PASSWORD'));
  });

  it('refuses scrypt parameters that would exhaust memory before deriving anything', async () => {
    const { path } = await makeSealed('correct horse battery');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { kdf: { N: number } };
    file.kdf.N = 2 ** 24;
    writeFileSync(path, JSON.stringify(file));
    const store = new KeyFileIdentityStore(path, crypto, {
      createIfMissing: false,
      password: async () => assert.fail('asked for a password'),
    });
    await assert.rejects(store.loadOrCreate(), (e: Error) => codeOf('E_CONFIG')(e) && /scrypt N/.test(e.message));
  });

  it('asks for no password it cannot get: a sealed key without a source is a clear error', async () => {
    const { path } = await makeSealed('correct horse battery');
    await assert.rejects(new KeyFileIdentityStore(path, crypto, { createIfMissing: false }).loadOrCreate(), (e: Error) =>
      /ST_KEY_PASSWORD/.test(e.message),
    );
  });

  it('never replaces an existing key, and refuses passwords shorter than 8 characters', async () => {
    const { path } = await makeSealed('correct horse battery');
    const before = readFileSync(path, 'utf8');
    const writer = new KeyFileIdentityStore(path, crypto, { createIfMissing: false, scrypt: FAST });
    await assert.rejects(new MakeIdentityKey(crypto, writer).execute('another password'), codeOf('E_FILE_EXISTS'));
    assert.equal(readFileSync(path, 'utf8'), before);
    await assert.rejects(
      new MakeIdentityKey(crypto, new KeyFileIdentityStore(join(dir(), 'k'), crypto, { createIfMissing: false })).execute('short'),
      codeOf('E_USAGE'),
    );
  });
});

describe('first-use keys', () => {
  it('generates a host key once (0600), then loads the same one', async () => {
    const path = join(dir(), 'sub', 'host_key');
    const first = await new KeyFileIdentityStore(path, crypto, { createIfMissing: true }).loadOrCreate();
    const again = await new KeyFileIdentityStore(path, crypto, { createIfMissing: true }).loadOrCreate();
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.deepEqual(again.keyPair.publicKey, first.keyPair.publicKey);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('does not invent a key the user named but that does not exist', async () => {
    const store = new KeyFileIdentityStore(join(dir(), 'missing'), crypto, { createIfMissing: false });
    await assert.rejects(store.loadOrCreate(), (e: Error) => codeOf('E_CONFIG')(e) && /does not exist/.test(e.message));
  });
});

describe('the allow-list file', () => {
  const listed = crypto.generateKeyPair().publicKey;
  const byFingerprint = crypto.generateKeyPair().publicKey;
  const stranger = crypto.generateKeyPair().publicKey;

  function listFile(text: string): string {
    const path = join(dir(), 'authorized_keys');
    writeFileSync(path, text);
    return path;
  }

  it('accepts keys listed as .pub lines or fingerprints, and nobody else', async () => {
    const path = listFile(
      `# senders\n${formatPublicKeyLine(listed, 'alice laptop')}\n\n${fingerprintOf(byFingerprint, crypto.sha256)} bob\n`,
    );
    const list = new AuthorizedKeysFile(path, crypto);
    assert.equal((await list.load()).length, 2);
    assert.equal(await list.allows(listed), true);
    assert.equal(await list.allows(byFingerprint), true);
    assert.equal(await list.allows(stranger), false);
    assert.match(list.describe(), /2 client key/);
  });

  it('reads the file again for each decision, so an edit applies to the next connection', async () => {
    const path = listFile(formatPublicKeyLine(listed, ''));
    const list = new AuthorizedKeysFile(path, crypto);
    assert.equal(await list.allows(stranger), false);
    writeFileSync(path, `${formatPublicKeyLine(listed, '')}\n${formatPublicKeyLine(stranger, 'added')}\n`);
    assert.equal(await list.allows(stranger), true);
  });

  it('names the file and line of an entry it cannot read', async () => {
    const path = listFile(`${formatPublicKeyLine(listed, '')}\nssh-ed25519 AAAAC3Nza me@host\n`);
    await assert.rejects(
      new AuthorizedKeysFile(path, crypto).load(),
      (e: Error) => codeOf('E_CONFIG')(e) && e.message.includes(`${path}:2`),
    );
  });

  it('fails closed when the file disappears', async () => {
    const path = join(dir(), 'gone');
    await assert.rejects(new AuthorizedKeysFile(path, crypto).allows(listed), codeOf('E_CONFIG'));
  });
});

describe('a key made by processes that start together', () => {
  it('is made once and read whole by every one of them', async () => {
    const { spawn } = await import('node:child_process');
    const path = join(mkdtempSync(join(tmpdir(), 'st-key-race-')), 'home', 'id_x25519');
    const base = new URL('../../src/adapters/', import.meta.url).href;
    const script = [
      `const { KeyFileIdentityStore } = await import(${JSON.stringify(`${base}filesystem/key-file-identity-store.js`)});`,
      `const { NodeCryptoPrimitives } = await import(${JSON.stringify(`${base}crypto/node-crypto-primitives.js`)});`,
      `const store = new KeyFileIdentityStore(${JSON.stringify(path)}, new NodeCryptoPrimitives(), { createIfMissing: true });`,
      `const { keyPair } = await store.loadOrCreate();`,
      `process.stdout.write(Buffer.from(keyPair.publicKey).toString('hex'));`,
    ].join('\n');
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        () =>
          new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => resolve({ code, out, err }));
          }),
      ),
    );
    results.forEach((r, i) => assert.equal(r.code, 0, `process ${i}: ${r.err}`));
    assert.equal(new Set(results.map((r) => r.out)).size, 1, 'every process has the same key');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});
