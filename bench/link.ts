// Link emulation for the benchmark (root only): two network namespaces joined by a veth pair,
// each end shaped with tc netem (rate, and half the round-trip delay each way), so a run shows
// what compression buys on a real network. Uses Debian's iproute2; removed again afterwards.
// A kernel without netem gets the rate from tbf and the round trip from a delaying relay
// (delay-relay.ts) in the receiver's namespace: it listens on the link's address in front of each
// server, which then listens on that namespace's loopback. The delay comes after the shaped
// queue, as on a real path (a relay before the queue would empty its delay line whenever the
// queue pushed back).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface Link {
  /** The receiver's address inside the link: what the sender's side dials. */
  readonly receiverHost: string;
  /** Where servers on the receiver's side listen: the link's address, or loopback behind a relay. */
  readonly bindHost: string;
  /** The rate each way, bytes per second. */
  readonly bytesPerSec: number;
  /** Makes a server's port on the receiver's side reachable across the link (starts its relay, if there is one). */
  expose(port: number): Promise<void>;
  /** Prefixes a command so it runs on the sender's or the receiver's side. */
  sender(command: string, args: string[]): [string, string[]];
  receiver(command: string, args: string[]): [string, string[]];
  describe(): string;
  remove(): void;
}

const SENDER_NS = 'st-bench-sender';
const RECEIVER_NS = 'st-bench-receiver';
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/** spec: "RATE,RTT", e.g. "100mbit,20ms". */
export function makeLink(spec: string): Link {
  const [rate, rtt] = spec.split(',');
  const rttMs = Number(/^(\d+(?:\.\d+)?)ms$/.exec(rtt ?? '')?.[1]);
  if (!rate || !/^\d+(?:\.\d+)?[kmg]?bit$/.test(rate) || !Number.isFinite(rttMs))
    throw new Error(`--link expects RATE,RTT like 100mbit,20ms, got ${spec}`);
  if (process.getuid?.() !== 0) throw new Error('--link needs root (network namespaces and tc)');
  remove();
  try {
    return build(rate, rttMs);
  } catch (e) {
    remove();
    throw e;
  }
}

function build(rate: string, rttMs: number): Link {
  let shaping = 'netem';
  ip('netns', 'add', SENDER_NS);
  ip('netns', 'add', RECEIVER_NS);
  ip('link', 'add', 'st-veth-s', 'netns', SENDER_NS, 'type', 'veth', 'peer', 'name', 'st-veth-r', 'netns', RECEIVER_NS);
  for (const [ns, dev, address] of [
    [SENDER_NS, 'st-veth-s', '10.77.0.1/24'],
    [RECEIVER_NS, 'st-veth-r', '10.77.0.2/24'],
  ] as const) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', address, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
    // Half the round trip each way; the queue holds a few bandwidth-delay products.
    const tc = (...args: string[]) =>
      execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', ...args], { stdio: 'pipe' });
    try {
      tc('netem', 'delay', `${rttMs / 2}ms`, 'rate', rate, 'limit', '10000');
    } catch {
      // Some kernels (this VM's among them) lack sch_netem: shape the rate with a token bucket
      // filter and say that the delay is not emulated.
      tc('tbf', 'rate', rate, 'burst', '256kb', 'latency', '100ms');
      shaping = 'tbf';
    }
  }
  const inside =
    (ns: string) =>
    (command: string, args: string[]): [string, string[]] => ['ip', ['netns', 'exec', ns, command, ...args]];
  const receiverHost = '10.77.0.2';
  const relaying = shaping !== 'netem' && rttMs > 0;
  const relayed = new Map<number, Promise<void>>();
  const expose = async (port: number) => {
    if (!relaying) return;
    if (!relayed.has(port)) relayed.set(port, startRelay(inside(RECEIVER_NS), port, receiverHost, rttMs / 2));
    await relayed.get(port);
  };
  const [, amount, unit] = /^(\d+(?:\.\d+)?)([kmg]?)bit$/.exec(rate)!;
  return {
    receiverHost,
    bindHost: relaying ? '127.0.0.1' : receiverHost,
    bytesPerSec: (Number(amount) * { '': 1, k: 1e3, m: 1e6, g: 1e9 }[unit as '' | 'k' | 'm' | 'g']) / 8,
    expose,
    sender: inside(SENDER_NS),
    receiver: inside(RECEIVER_NS),
    describe: () =>
      shaping === 'netem'
        ? `emulated link: ${rate} each way, ${rttMs} ms round trip (netem in two network namespaces)`
        : `emulated link: ${rate} each way (tbf in two network namespaces; this kernel has no netem), ${rttMs} ms round trip from a delaying relay in the receiver's namespace, after the shaped queue (it uses some CPU of its own)`,
    remove,
  };
}

const relays: ChildProcess[] = [];

/** Starts a relay in the receiver's namespace on the link's address, forwarding to the same port on its loopback; resolves once it listens. */
async function startRelay(
  onReceiver: (command: string, args: string[]) => [string, string[]],
  port: number,
  linkHost: string,
  oneWayMs: number,
): Promise<void> {
  const script = fileURLToPath(new URL('./delay-relay.js', import.meta.url));
  const child = spawn(...onReceiver(process.execPath, [script, `${linkHost}:${port}`, '127.0.0.1', String(port), String(oneWayMs)]), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  relays.push(child);
  const [line] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [''])])) as [Buffer | string];
  if (!String(line).startsWith('relaying')) throw new Error(`the delaying relay for port ${port} did not start`);
}

function remove(): void {
  for (const relay of relays.splice(0)) relay.kill();
  for (const ns of [SENDER_NS, RECEIVER_NS]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not there
    }
  }
}
