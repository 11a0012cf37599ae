// Load check: 50 senders at once against the real receiver process, then the receiver's
// open file descriptors back at their baseline (no leaked sockets or file handles).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makePeer, startReceiver } from '../support/cli.js';
import { sha256File, writeRandomFile } from '../support/files.js';
import { sendInProcess } from '../support/in-process.js';

const openDescriptors = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe('load', { timeout: 300_000 }, () => {
  it('serves 50 concurrent senders with identical files and releases every descriptor', async () => {
    const receiverPeer = makePeer('receiver-load');
    const senders = makePeer('senders-load');
    const r = await startReceiver(receiverPeer, undefined, { ST_MAX_CONCURRENT_PER_IP: '100', ST_MAX_HANDSHAKES_PER_IP: '100' });
    try {
      const pid = r.process.pid!;
      const baseline = openDescriptors(pid);
      const files = Array.from({ length: 50 }, (_, i) => {
        const path = join(senders.dir, `load-${i}.bin`);
        writeRandomFile(path, 1024 * 1024 + i);
        return path;
      });
      const outcomes = await Promise.all(files.map((f) => sendInProcess(r.port, f)));
      outcomes.forEach((o, i) => assert.equal(o.ok, true, `sender ${i}: ${JSON.stringify(o)}`));
      for (const f of files)
        assert.equal(await sha256File(join(receiverPeer.dir, 'received', f.slice(senders.dir.length + 1))), await sha256File(f));
      // Sessions close their sockets and files as they end; give the last ones a moment.
      let now = openDescriptors(pid);
      for (let i = 0; i < 50 && now > baseline; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        now = openDescriptors(pid);
      }
      assert.ok(now <= baseline, `descriptors: ${baseline} before, ${now} after`);
    } finally {
      await r.stop();
    }
  });
});
