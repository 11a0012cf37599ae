// The Logger port on log4js (docs/requirements.md#audit): lines reach the file with network values escaped (no
// log injection), the file rolls at ST_LOG_ROTATION, rolled files older than ST_LOG_RETENTION go.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Log4jsLogger, sweepOldLogs } from '../../src/adapters/logging/log4js-logger.js';

describe('Logger contract: log4js', () => {
  it('writes one line per record, escaping what came from the network, and rolls at the size limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-log-'));
    const path = join(dir, 'securetransfer.log');
    const logger = new Log4jsLogger({
      path,
      level: 'INFO',
      rotationBytes: 4096,
      retentionMs: 7 * 86_400_000,
      maxFiles: 10,
      console: false,
    });
    logger.info('audit handshake.failed', { peer: '10.0.0.1:5', detail: 'bad\n2026-01-01 INFO audit transfer.completed forged' });
    logger.info('audit error', { detail: 'quote" code="E_FAKE\\u000a' });
    for (let i = 0; i < 200; i++) logger.info('filler line to make the file roll over', { n: i });
    logger.debug('below the level');
    await logger.shutdown();
    const files = readdirSync(dir).filter((n) => n.startsWith('securetransfer'));
    assert.ok(files.length >= 3, `rolled files: ${files.join(', ')}`);
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    const forged = all.split('\n').filter((l) => l.includes('forged'));
    assert.equal(forged.length, 1, 'the injected line break did not start a new record');
    assert.match(forged[0]!, /detail="bad\\u000a2026-01-01 INFO audit transfer\.completed forged"/);
    assert.ok(all.includes('detail="quote\\" code=\\"E_FAKE\\\\u000a"'), 'a quote cannot close the field, a literal escape stays distinct');
    assert.equal(all.includes('below the level'), false);
    for (const f of files) assert.ok(readFileSync(join(dir, f)).length <= 4096 + 200, `${f} exceeds the rotation size`);
  });

  it('deletes rolled files older than the retention, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-log-'));
    const path = join(dir, 'securetransfer.log');
    const now = Date.now();
    const day = 86_400_000;
    const make = (name: string, ageMs: number) => {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), (now - ageMs) / 1000, (now - ageMs) / 1000);
    };
    make('securetransfer.log', 30 * day); // the live file is never deleted
    make('securetransfer.2026-11-01.log', 8 * day);
    make('securetransfer.2026-11-27.log', 2 * day);
    make('other.log', 30 * day);
    const removed = sweepOldLogs(path, 7 * day, now);
    assert.deepEqual(removed, [join(dir, 'securetransfer.2026-11-01.log')]);
    assert.deepEqual(readdirSync(dir).sort(), ['other.log', 'securetransfer.2026-11-27.log', 'securetransfer.log']);
  });
});
