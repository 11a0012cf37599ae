// npm run bench -- --stores [--quick] [--rounds N]: what the database behind the receiver costs,
// and what a second receiver behind HAProxy buys (docs/scaling.md). Prints, per store (SQLite in
// a file, PostgreSQL on loopback): the cost of recording a piece (batches of 32 in one
// transaction, as the receiver records them), one transfer's wall time, and the aggregate
// throughput of 8 concurrent senders to one receiver and to two behind HAProxy. Rounds interleave
// the stores; figures are medians. PostgreSQL and HAProxy are started here as the tests start them.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openPostgresDataSource } from '../src/adapters/persistence/typeorm/postgres-data-source.js';
import { openSqliteDataSource } from '../src/adapters/persistence/typeorm/sqlite-data-source.js';
import { TypeOrmTransferStore } from '../src/adapters/persistence/typeorm/typeorm-transfer-store.js';
import { newTransferRecord } from '../src/domain/transfer/new-transfer-record.js';
import { startHaproxy } from '../test/support/haproxy.js';
import { startPostgres, type RunningPostgres } from '../test/support/postgres.js';
import { makeRandomFile } from './files.js';
import { measure, signal, waitForOutput } from './measure.js';
import { freshSide } from './side.js';

const CLI = resolve('dist/bundle/securetransfer.js');
const MiB = 1024 * 1024;
const root = join(tmpdir(), 'securetransfer-bench-stores');

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const port = () => 20000 + Math.floor(Math.random() * 20000);

/** Many senders and receivers at once from one address: the per-address caps are opened up. */
const side = (name: string, extra: NodeJS.ProcessEnv = {}) =>
  freshSide(root, name, { ST_MAX_CONCURRENT_PER_IP: '64', ST_MAX_HANDSHAKES_PER_IP: '64', ...extra });

/** Microseconds per piece recorded, in batches of 32 with their counters, over `pieces` pieces. */
async function recordingCost(store: TypeOrmTransferStore, pieces: number): Promise<number> {
  const id = crypto.randomUUID();
  const now = Date.now();
  const record = newTransferRecord(
    {
      id,
      role: 'receiver',
      fileName: 'bench.bin',
      localPath: '/tmp',
      fileSize: pieces * MiB,
      pieceSize: MiB,
      pieceCount: pieces,
      compression: 'zstd',
      peerAddress: '127.0.0.1:1',
      peerFingerprint: 'SHA256:x',
      sourceModifiedAt: null,
    },
    now,
  );
  await store.create(record);
  const started = performance.now();
  for (let i = 0; i < pieces; i += 32) {
    const batch = Array.from({ length: Math.min(32, pieces - i) }, (_, j) => ({ index: i + j, hash: new Uint8Array(32).fill(j) }));
    await store.recordPieces(id, 'receiver', batch, {
      piecesDone: i + batch.length,
      bytesDone: (i + batch.length) * MiB,
      updatedAt: Date.now(),
    });
  }
  return ((performance.now() - started) * 1000) / pieces;
}

/** Senders at once (one file each) to the given port; the aggregate MB/s of the whole batch. */
async function concurrentSends(files: string[], target: number, bytes: number): Promise<number> {
  const started = performance.now();
  const sends = files.map((file, i) => {
    const s = side(`sender-${i}`);
    return measure(
      process.execPath,
      [CLI, 'send', '--host', '127.0.0.1', '--port', String(target), '--file', file],
      s.env,
      join(s.dir, 'time'),
    );
  });
  const results = await Promise.all(sends.map((m) => m.done));
  const seconds = (performance.now() - started) / 1000;
  results.forEach((r, i) => {
    if (r.code !== 0) throw new Error(`sender ${i} failed:\n${sends[i]!.output()}`);
  });
  return bytes / MiB / seconds;
}

async function startReceivers(count: number, env: NodeJS.ProcessEnv, shared: string) {
  const started = [];
  for (let i = 0; i < count; i++) {
    const s = side(`receiver-${i}`, { ...env, ST_OUTPUT_DIR: join(shared, 'received'), ST_HOST_KEY_PATH: join(shared, 'host_key') });
    const p = port();
    const m = measure(process.execPath, [CLI, 'receive', '--host', '127.0.0.1', '--port', String(p)], s.env, join(s.dir, 'time'));
    await waitForOutput(m, /host key fingerprint/);
    started.push({ port: p, m });
  }
  return started;
}

export async function storesMain(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rounds = Number(args[args.indexOf('--rounds') + 1]) || 3;
  const size = quick ? 100 * MiB : 1024 * MiB;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const pg: RunningPostgres = await startPostgres();
  try {
    const big = join(root, 'big.bin');
    makeRandomFile(big, size);
    const eight = Array.from({ length: 8 }, (_, i) => {
      const f = join(root, `part-${i}.bin`);
      makeRandomFile(f, size / 8);
      return f;
    });
    const cost: Record<string, number[]> = { sqlite: [], postgres: [] };
    const oneTransfer: Record<string, number[]> = { sqlite: [], postgres: [] };
    const aggregate: Record<string, number[]> = {
      'sqlite, one receiver': [],
      'postgres, one receiver': [],
      'postgres, two behind HAProxy': [],
    };
    for (let round = 1; round <= rounds; round++) {
      for (const kind of ['sqlite', 'postgres'] as const) {
        const ds =
          kind === 'sqlite'
            ? await openSqliteDataSource(join(mkdtempSync(join(root, 'db-')), 'st.db'))
            : await openPostgresDataSource(pg.createDatabase(`cost_${round}`));
        cost[kind]!.push(await recordingCost(new TypeOrmTransferStore(ds), 2048));
        await ds.destroy();
      }
      for (const kind of ['sqlite', 'postgres'] as const) {
        const shared = mkdtempSync(join(root, 'shared-'));
        const env: NodeJS.ProcessEnv = kind === 'postgres' ? { DB_URL: pg.createDatabase(`one_${round}`) } : {};
        const [r] = await startReceivers(1, env, shared);
        oneTransfer[kind]!.push(await concurrentSends([big], r!.port, size).then((mbps) => size / MiB / mbps));
        aggregate[`${kind}, one receiver`]!.push(await concurrentSends(eight, r!.port, size));
        signal(r!.m, 'SIGTERM');
        await r!.m.done;
        rmSync(shared, { recursive: true, force: true });
      }
      const shared = mkdtempSync(join(root, 'shared-'));
      const env = { DB_URL: pg.createDatabase(`two_${round}`), ST_PROXY_PROTOCOL: 'v2', ST_TRUSTED_PROXIES: '127.0.0.1' };
      const receivers = await startReceivers(2, env, shared);
      const balancer = await startHaproxy(receivers.map((r) => r.port));
      aggregate['postgres, two behind HAProxy']!.push(await concurrentSends(eight, balancer.port, size));
      await balancer.stop();
      for (const r of receivers) signal(r.m, 'SIGTERM');
      await Promise.all(receivers.map((r) => r.m.done));
      rmSync(shared, { recursive: true, force: true });
    }
    console.log(`\nStores and scale-out (${rounds} interleaved rounds, medians; ${size / MiB} MiB random data):\n`);
    console.log('| store | recording one piece (µs, batches of 32) | one transfer (s) |');
    console.log('|---|---|---|');
    for (const kind of ['sqlite', 'postgres'] as const)
      console.log(`| ${kind} | ${median(cost[kind]!).toFixed(0)} | ${median(oneTransfer[kind]!).toFixed(2)} |`);
    console.log('\n| 8 concurrent senders | aggregate MB/s (MiB/s) |');
    console.log('|---|---|');
    for (const [label, values] of Object.entries(aggregate)) console.log(`| ${label} | ${median(values).toFixed(1)} |`);
  } finally {
    pg.stop();
  }
}
