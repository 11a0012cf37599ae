// A throwaway OpenSSH server on a loopback port, with its own host key, client key and config,
// so scp can be timed on the same files in the same run. Nothing outside its folder is touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';

export const SSHD = '/usr/sbin/sshd';

export interface ThrowawaySshd {
  readonly port: number;
  /** scp options (before the source and destination). */
  scpArgs(cipher?: string): string[];
  /** The ssh command line rsync's -e takes, with the same key and options. */
  sshCommand(): string;
  /** The scp destination for a path on this server. */
  remote(path: string): string;
  /** CPU seconds of the server's finished sessions so far (its waited-for children). */
  serverCpuSec(): number | undefined;
  stop(): void;
}

function waitForPort(port: number, timeoutMs: number, host: string, elsewhere: boolean): Promise<void> {
  // A server inside another network namespace cannot be reached from here: give it a moment.
  if (elsewhere) return new Promise((resolve) => setTimeout(resolve, 1000));
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => (Date.now() > end ? reject(new Error(`sshd did not listen on ${port}`)) : setTimeout(attempt, 50)));
    };
    attempt();
  });
}

export async function startSshd(
  dir: string,
  port: number,
  host = '127.0.0.1',
  wrap: (command: string, args: string[]) => [string, string[]] = (c, a) => [c, a],
  /** The host scp and ssh dial (a relay in front of the server, on the same port), if not host. */
  dialHost = host,
): Promise<ThrowawaySshd> {
  mkdirSync(dir, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  if (!existsSync(hostKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  if (!existsSync(clientKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  execFileSync('cp', [`${clientKey}.pub`, join(dir, 'authorized_keys')]);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const [command, args] = wrap(SSHD, ['-D', '-e', '-f', config]);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForPort(port, 10_000, host, host !== '127.0.0.1' || dialHost !== '127.0.0.1');
  const user = process.env['USER'] ?? 'root';
  /** The key and host-key handling scp and ssh share (the port flag differs: -P and -p). */
  const clientOptions = [
    '-i',
    clientKey,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o',
    'BatchMode=yes',
  ];
  return {
    port,
    scpArgs: (cipher) => ['-q', '-P', String(port), ...clientOptions, ...(cipher ? ['-c', cipher] : [])],
    sshCommand: () => ['ssh', '-q', '-p', String(port), ...clientOptions].join(' '),
    remote: (path) => `${user}@${dialHost}:${path}`,
    serverCpuSec: () => {
      try {
        // /proc/PID/stat: after the ")" closing the name, cutime and cstime are fields 14 and 15.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[13]) + Number(fields[14])) / 100;
      } catch {
        return undefined;
      }
    },
    stop: () => void child.kill('SIGTERM'),
  };
}
