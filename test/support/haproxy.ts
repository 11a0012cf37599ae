// HAProxy from Debian's packages, started for real in front of receivers: TCP mode, round
// robin, send-proxy-v2, redispatch to the other receiver when one is down. A balancer that cannot
// start fails the test that asked for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cli.js';

export interface RunningHaproxy {
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startHaproxy(backendPorts: readonly number[]): Promise<RunningHaproxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'st-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 120s',
      '  timeout server 120s',
      '  retries 3',
      '  option redispatch',
      'frontend securetransfer',
      `  bind 127.0.0.1:${port}`,
      '  default_backend receivers',
      'backend receivers',
      '  balance roundrobin',
      ...backendPorts.map((p, i) => `  server r${i + 1} 127.0.0.1:${p} send-proxy-v2 source 127.0.0.1`),
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-f', config, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // Ready once the frontend accepts connections. The probe comes from an address of its own: the
  // receivers see it as a client that hung up in its handshake.
  for (let waited = 0; ; waited += 50) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${out}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.250' }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (waited > 10_000) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not listen on ${port} within 10 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
