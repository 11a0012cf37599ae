import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFileName } from '../../src/domain/transfer/file-name.js';

const hostile: [string, RegExp][] = [
  ['', /empty/],
  ['.', /relative directory/],
  ['..', /relative directory/],
  ['../etc/passwd', /separator/],
  ['..\\..\\windows\\system32', /separator/],
  ['/etc/passwd', /separator/],
  ['sub/file.txt', /separator/],
  ['C:evil.txt', /drive letter/],
  ['C:\\evil.txt', /separator|drive/],
  ['\\\\server\\share\\x', /separator/],
  ['name\u0000.txt', /control/],
  ['line\nbreak', /control/],
  ['bell\u0007', /control/],
  ['\u001b[31mred', /control/],
  ['rtl\u202etxt.exe', /direction/],
  ['CON', /reserved/],
  ['nul.txt', /reserved/],
  ['COM1', /reserved/],
  ['lpt9.log', /reserved/],
  ['trailing.', /ends with a dot/],
  ['trailing ', /ends with a dot or a space/],
  [' leading', /starts with a space/],
  ['what?.txt', /forbids/],
  ['pipe|name', /forbids/],
  ['e\u0301cole.txt', /NFC/],
  ['a'.repeat(256), /longer than 255/],
  ['é'.repeat(128), /longer than 255/],
  ['.securetransfer-1b4e28ba-2fa1-4d2e-883f-0016d3cca427.part', /reserved for partial/],
  ['.SecureTransfer-final-name', /reserved for partial/],
  ['.securetran\u017ffer-x', /reserved for partial/],
  ['./x', /separator/],
  ['//server/share', /separator/],
  ['\\\\?\\C:\\x', /separator/],
  ['dir/../x', /separator/],
  ['..\uff0fetc\uff0fpasswd', /looks like or converts to a path separator/],
  ['a\uff3cb', /looks like or converts to a path separator/],
  ['a\u2215b', /looks like or converts to a path separator/],
  ['a\u2044b', /looks like or converts to a path separator/],
  ['C:', /drive letter/],
  ['file.txt:stream', /forbids/],
  ['x<y', /forbids/],
  ['x*y', /forbids/],
  ['a"b', /forbids/],
  ['name\t.txt', /control/],
  ['next\u0085line', /control/],
  ['para\u2028graph', /control/],
  ['zero\u200bwidth.txt', /control/],
  ['join\u200d.txt', /control/],
  ['word\u2060joiner', /control/],
  ['\ufeffbom.txt', /control/],
  ['arabic\u061cmark.txt', /control/],
  ['soft\u00adhyphen.txt', /control/],
  ['mongolian\u180evowel.txt', /control/],
  ['tag\u{e0041}.txt', /control/],
  ['unassigned\u{10ffff}.txt', /control/],
  ['lone\ud800.txt', /unpaired surrogate/],
  ['\u1112\u1161.txt', /NFC/],
  ['A\u030angstrom', /NFC/],
  ['COM\u00b9', /reserved/],
  ['conin$', /reserved/],
  ['aux.tar.gz', /reserved/],
  ['...', /relative directory|ends with a dot/],
  ['CON ', /ends with a dot or a space/],
  [' ', /ends with a dot or a space|starts with a space/],
  ['a'.repeat(252) + '.txt', /longer than 255/],
];

describe('file names from the network', () => {
  it('has a corpus of at least 40 hostile names', () => assert.ok(hostile.length >= 40, `${hostile.length}`));

  for (const [name, reason] of hostile) {
    it(`refuses ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name)} with a reason`, () => {
      const r = validateFileName(name);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, 'E_NAME_INVALID');
        assert.match(r.detail, reason);
      }
    });
  }

  for (const name of ['report.pdf', 'école.txt', '.bashrc', 'archive.tar.gz', 'データ.bin', 'a'.repeat(255), 'CONSOLE.txt']) {
    it(`accepts ${JSON.stringify(name.slice(0, 30))}`, () => {
      assert.deepEqual(validateFileName(name), { ok: true, value: name });
    });
  }
});

describe('names and the escaping of what is shown', () => {
  it('escapes every refused invisible or reordering character in log and terminal text', async () => {
    const { escapeText } = await import('../../src/domain/escape-text.js');
    assert.equal(escapeText('a\u061cb\u202ec\nd'), 'a\\u061cb\\u202ec\\u000ad');
    assert.equal(escapeText('x\u{e0041}'), 'x\\u{e0041}');
    assert.equal(escapeText('plain café ✓'), 'plain café ✓');
  });

  it('keeps a leading byte-order mark when decoding a name, so it is refused rather than stripped', async () => {
    const { decodeUtf8 } = await import('../../src/domain/bytes.js');
    const decoded = decodeUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x78));
    assert.equal(decoded, '\ufeffx');
    assert.equal(validateFileName(decoded).ok, false);
  });
});
