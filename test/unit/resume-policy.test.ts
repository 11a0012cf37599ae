import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Manifest } from '../../src/domain/transfer/manifest.js';
import { judgeResume, type EarlierAttempt } from '../../src/domain/transfer/resume-policy.js';

const manifest: Manifest = {
  transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
  fileName: 'disk.img',
  fileSize: 5_000_000,
  pieceSize: 1_048_576,
  pieceCount: 5,
  compression: 'zstd',
  resume: true,
};
const earlier: EarlierAttempt = {
  fileName: 'disk.img',
  fileSize: 5_000_000,
  pieceSize: 1_048_576,
  pieceCount: 5,
  status: 'interrupted',
  entryListHash: null,
  peerFingerprint: 'SHA256:alice',
};
const judge = (m: Manifest, e: EarlierAttempt | undefined, fingerprint = 'SHA256:alice', entryListHash: string | null = null) =>
  judgeResume(m, { earlier: e, clientFingerprint: fingerprint, entryListHash });

describe('resume policy on the receiver', () => {
  it('continues an interrupted or failed transfer from the same sender key', () => {
    assert.deepEqual(judge(manifest, earlier), { ok: true, value: true });
    assert.deepEqual(judge(manifest, { ...earlier, status: 'failed' }), { ok: true, value: true });
    assert.deepEqual(
      judge(manifest, { ...earlier, status: 'in-progress' }),
      { ok: true, value: true },
      'a receiver that died mid-transfer left it in progress',
    );
  });

  it('continues a folder whose entry list hashes the same', () => {
    assert.deepEqual(judge(manifest, { ...earlier, entryListHash: 'aa'.repeat(32) }, 'SHA256:alice', 'aa'.repeat(32)), {
      ok: true,
      value: true,
    });
  });

  it('starts afresh when it never recorded the transfer, and for a new transfer', () => {
    assert.deepEqual(judge(manifest, undefined), { ok: true, value: false });
    assert.deepEqual(judge({ ...manifest, resume: false }, undefined), { ok: true, value: false });
  });

  const refusals: [string, () => ReturnType<typeof judge>, string][] = [
    ['another sender key', () => judge(manifest, earlier, 'SHA256:mallory'), 'E_UNTRUSTED_KEY'],
    ['a completed transfer', () => judge(manifest, { ...earlier, status: 'completed' }), 'E_ALREADY_COMPLETE'],
    ['a new transfer reusing an id', () => judge({ ...manifest, resume: false }, earlier), 'E_MANIFEST_INVALID'],
    ['a different size', () => judge({ ...manifest, fileSize: 5_000_001 }, earlier), 'E_MANIFEST_INVALID'],
    ['a different name', () => judge({ ...manifest, fileName: 'other.img' }, earlier), 'E_MANIFEST_INVALID'],
    ['a folder resumed as a file', () => judge(manifest, { ...earlier, entryListHash: 'aa'.repeat(32) }), 'E_MANIFEST_INVALID'],
    [
      'a folder with another entry list',
      () => judge(manifest, { ...earlier, entryListHash: 'aa'.repeat(32) }, 'SHA256:alice', 'bb'.repeat(32)),
      'E_MANIFEST_INVALID',
    ],
  ];
  for (const [what, decide, code] of refusals) {
    it(`refuses ${what} with ${code}`, () => {
      const result = decide();
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.code, code);
    });
  }
});
