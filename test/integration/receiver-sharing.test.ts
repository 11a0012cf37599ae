// What receivers on one database share (docs/scaling.md): offences and bans through the board,
// disk reservations on a shared folder. Two use-case instances on one in-memory board, with a
// clock the test sets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryBanBoard } from '../../src/adapters/persistence/memory/in-memory-ban-board.js';
import { InMemoryReservationBoard } from '../../src/adapters/persistence/memory/in-memory-reservation-board.js';
import { BanSharing } from '../../src/application/ban-sharing.js';
import { FRESH_MS, SharedDiskSpace } from '../../src/application/shared-disk-space.js';
import { BanPolicy, type Ban } from '../../src/domain/policy/ban-policy.js';
import type { BanBoard } from '../../src/domain/ports/ban-board.js';
import type { Clock } from '../../src/domain/ports/clock.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeReceiveFolder } from '../../src/adapters/filesystem/node-receive-folder.js';
import { encodeManifest } from '../../src/domain/transfer/manifest.js';
import { maxAcceptBodyFor } from '../../src/domain/wire/messages.js';
import { acceptedTransfer, handshakeWith, testManifest } from '../support/hostile-client.js';
import { silentLogger, startInProcessReceiver } from '../support/in-process.js';

class SetClock implements Clock {
  at = 1_000_000;
  now(): number {
    return this.at;
  }
  elapsedMs(): number {
    return this.at;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

const rules = { threshold: 3, windowMs: 60_000, banMs: 600_000, maxBanMs: 86_400_000, maxTracked: 1000 };

function receiver(board: BanBoard, clock: Clock, receiverId: string) {
  const policy = new BanPolicy(rules);
  const bans: Ban[] = [];
  const sharing = new BanSharing({
    board,
    policy,
    clock,
    logger: silentLogger,
    receiverId,
    windowMs: rules.windowMs,
    onBan: async (ban) => {
      bans.push(ban);
      await sharing.banned(ban);
    },
  });
  /** An offence here, as the server records it. */
  const offend = async (key: string) => {
    const ban = policy.recordOffence(key, clock.now());
    if (ban) {
      bans.push(ban);
      await sharing.banned(ban);
    } else sharing.offended(key);
  };
  return { policy, sharing, bans, offend };
}

describe('bans and offences shared by receivers on one database', () => {
  it('bans a source whose offences a balancer spread over two receivers after the threshold in total', async () => {
    const board = new InMemoryBanBoard();
    const clock = new SetClock();
    const a = receiver(board, clock, 'receiver-a');
    const b = receiver(board, clock, 'receiver-b');
    await a.offend('203.0.113.7');
    await a.offend('203.0.113.7');
    await a.sharing.poll(); // reports two
    await b.sharing.poll(); // counts them
    assert.equal(b.policy.banned('203.0.113.7', clock.now()), undefined, 'two offences are not yet a ban');
    await b.offend('203.0.113.7');
    assert.equal(b.bans.length, 1, 'the third offence, on the other receiver, is the ban');
    await a.sharing.poll();
    assert.ok(a.policy.banned('203.0.113.7', clock.now()), 'and the first receiver imposes it');
  });

  it('never counts its own reports, nor a report twice when the window of ids is read again', async () => {
    const board = new InMemoryBanBoard();
    const clock = new SetClock();
    const a = receiver(board, clock, 'receiver-a');
    const b = receiver(board, clock, 'receiver-b');
    await a.offend('198.51.100.1');
    await a.offend('198.51.100.1');
    for (let i = 0; i < 5; i++) {
      await a.sharing.poll();
      await b.sharing.poll();
    }
    assert.equal(a.policy.banned('198.51.100.1', clock.now()), undefined, 'its own two offences, read back, are still two');
    assert.equal(b.policy.banned('198.51.100.1', clock.now()), undefined, 'two offences counted once on the other receiver');
    assert.equal(b.bans.length, 0);
  });

  it('ignores reports older than the ban window, and offences of a source already banned', async () => {
    const board = new InMemoryBanBoard();
    const clock = new SetClock();
    await board.reportOffences('receiver-x', clock.now() - rules.windowMs - 1, [{ key: 'old', count: 2 }]);
    await board.publish({ key: 'banned', until: clock.now() + 60_000, round: 1, offences: 3 });
    await board.reportOffences('receiver-x', clock.now(), [{ key: 'banned', count: 3 }]);
    const b = receiver(board, clock, 'receiver-b');
    await b.sharing.poll();
    await b.offend('old');
    assert.equal(b.bans.length, 0, 'a report from before the window adds nothing');
    assert.ok(b.policy.banned('banned', clock.now()));
    assert.equal(b.bans.length, 0, 'the reported offences of a banned source start no second ban');
  });

  it('publishes one ban, not the offences that led to it', async () => {
    const board = new InMemoryBanBoard();
    const clock = new SetClock();
    const a = receiver(board, clock, 'receiver-a');
    await a.offend('k');
    await a.offend('k');
    await a.offend('k');
    await a.sharing.poll();
    assert.equal((await board.publishedAfter(0, clock.now(), 10)).length, 1);
    assert.deepEqual(await board.offencesAfter(0, 'someone-else', 0, 10), [], 'the offences of a source banned here are not reported');
  });

  it('keeps polling after a failing database, and logs the failure', async () => {
    const board = new InMemoryBanBoard();
    const clock = new SetClock();
    const errors: string[] = [];
    const failing: BanBoard = Object.assign(Object.create(board) as BanBoard, {
      reportOffences: () => Promise.reject(new Error('connection refused')),
    });
    const sharing = new BanSharing({
      board: failing,
      policy: new BanPolicy(rules),
      clock,
      logger: { ...silentLogger, error: (m) => void errors.push(m) },
      receiverId: 'r',
      windowMs: 60_000,
      onBan: async () => undefined,
    });
    sharing.offended('k');
    await sharing.poll();
    assert.equal(errors.length, 1);
  });
});

describe('disk reservations shared by receivers on one folder', () => {
  const space = (board: InMemoryReservationBoard, clock: Clock, receiverId: string, folderId = 'folder-1') => {
    let reserved = 0;
    const shared = new SharedDiskSpace({ board, clock, logger: silentLogger, receiverId, folderId, reserved: () => reserved });
    return { shared, set: (n: number) => (reserved = n) };
  };

  it("counts the other receivers' reservations on the same folder, not its own nor another folder's", async () => {
    const board = new InMemoryReservationBoard();
    const clock = new SetClock();
    const a = space(board, clock, 'a');
    const b = space(board, clock, 'b');
    const c = space(board, clock, 'c', 'folder-2');
    a.set(500);
    await a.shared.publish();
    c.set(900);
    await c.shared.publish();
    assert.equal(await b.shared.reservedElsewhere(), 500);
    assert.equal(await a.shared.reservedElsewhere(), 0);
  });

  it('stops counting a receiver whose heartbeat has not moved for a while (stopped or killed), whatever its clock says', async () => {
    const board = new InMemoryReservationBoard();
    const clockA = new SetClock();
    clockA.at += 3_600_000; // an hour ahead of B's clock: only whether its heartbeat moves matters
    const clockB = new SetClock();
    const a = space(board, clockA, 'a');
    const b = space(board, clockB, 'b');
    a.set(500);
    await a.shared.publish();
    assert.equal(await b.shared.reservedElsewhere(), 500);
    clockB.at += FRESH_MS - 1;
    assert.equal(await b.shared.reservedElsewhere(), 500);
    clockB.at += 2;
    assert.equal(await b.shared.reservedElsewhere(), 0, 'no heartbeat seen for FRESH_MS');
    clockA.at += 2_000;
    await a.shared.publish(); // the next heartbeat
    assert.equal(await b.shared.reservedElsewhere(), 500, 'alive again');
  });

  it('prunes only entries that are long dead', async () => {
    const board = new InMemoryReservationBoard();
    const clock = new SetClock();
    const a = space(board, clock, 'a');
    a.set(500);
    await a.shared.publish();
    clock.at += 60_000;
    await a.shared.prune(clock.now());
    assert.equal((await board.othersOn('folder-1', 'z')).length, 1);
    clock.at += 3_600_000;
    await a.shared.prune(clock.now());
    assert.equal((await board.othersOn('folder-1', 'z')).length, 0);
  });

  it('publishes a return to zero once, and no heartbeat while nothing is promised', async () => {
    const board = new InMemoryReservationBoard();
    const clock = new SetClock();
    let writes = 0;
    const counting = Object.assign(Object.create(board) as InMemoryReservationBoard, {
      publish: (...args: Parameters<InMemoryReservationBoard['publish']>) => {
        writes++;
        return board.publish(...args);
      },
    });
    let reserved = 0;
    const a = new SharedDiskSpace({
      board: counting,
      clock,
      logger: silentLogger,
      receiverId: 'a',
      folderId: 'f',
      reserved: () => reserved,
    });
    const b = space(board, clock, 'b');
    await a.publish();
    assert.equal(writes, 0);
    reserved = 300;
    await a.publish();
    await a.publish();
    assert.equal(writes, 2, 'a heartbeat while something is promised');
    reserved = 0;
    await a.publish();
    await a.publish();
    assert.equal(writes, 3);
    assert.equal(await b.shared.reservedElsewhere(), 0);
  });
});

/** A folder whose file system always has the same bytes free: the test decides the disk. */
class FixedFreeSpace extends NodeReceiveFolder {
  constructor(
    dir: string,
    private readonly free: number,
  ) {
    super(dir);
  }
  override freeSpace(): Promise<number> {
    return Promise.resolve(this.free);
  }
}

const until = async (what: string, test: () => boolean, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('two receivers in process on one board and one folder', { timeout: 60_000 }, () => {
  it('bans a source after the threshold of offences in total across them, then on both', async () => {
    const banBoard = new InMemoryBanBoard();
    const a = await startInProcessReceiver({ banBoard, server: { receiverId: 'a' } });
    const b = await startInProcessReceiver({ banBoard, server: { receiverId: 'b' } });
    try {
      for (const [r, n] of [
        [a, 1],
        [a, 2],
        [b, 1],
      ] as const) {
        const { connection } = await acceptedTransfer('127.0.9.1', r.port); // dropped before its first piece: an offence
        connection.destroy();
        await until('the session ended', () => r.outcomes.length >= n);
        await a.server.share();
        await b.server.share();
      }
      await assert.rejects(acceptedTransfer('127.0.9.1', b.port), /E_BANNED/, 'two offences on one receiver and one on the other');
      await a.server.share();
      await assert.rejects(acceptedTransfer('127.0.9.1', a.port), /E_BANNED/);
      assert.ok(b.audit.events.some((e) => e.type === 'ban' && e.peerAddress === '127.0.9.1'));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('refuses a transfer that fits the free space only if the other receiver had promised nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-shared-folder-'));
    const reservations = new InMemoryReservationBoard();
    const folder = (d: string) => new FixedFreeSpace(d, 10 << 20);
    const a = await startInProcessReceiver({ dir, reservations, folder, server: { receiverId: 'a' } });
    const b = await startInProcessReceiver({ dir, reservations, folder, server: { receiverId: 'b' } });
    try {
      const big = testManifest({ fileSize: 6 << 20, pieceSize: 1 << 20 });
      const held = await acceptedTransfer('127.0.9.2', a.port, big); // promised on A, not sent yet
      const second = testManifest({ fileSize: 6 << 20, pieceSize: 1 << 20 });
      const refused = await handshakeWith('127.0.9.3', b.port, encodeManifest(second));
      const answer = await refused.channel.readMessage({ maxPieceBody: 0, maxAcceptBody: maxAcceptBodyFor(second.pieceCount) });
      assert.equal(answer.type, 'close');
      assert.equal(answer.type === 'close' && answer.code, 'E_INSUFFICIENT_SPACE');
      assert.match(answer.type === 'close' ? answer.reason : '', /promised by other receivers on this folder 6291456/);
      refused.connection.destroy();
      held.connection.destroy();
      await until('A let its transfer go', () => a.outcomes.length === 1);
      await a.server.share();
      const accepted = await acceptedTransfer('127.0.9.3', b.port, testManifest({ fileSize: 6 << 20, pieceSize: 1 << 20 }));
      accepted.connection.destroy();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
