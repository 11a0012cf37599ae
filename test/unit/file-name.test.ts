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
];

describe('file names from the network (SPEC §4)', () => {
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
