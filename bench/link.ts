// Link emulation for the benchmark (root only): two network namespaces joined by a veth pair,
// each end shaped with tc netem (rate, and half the round-trip delay each way), so a run shows
// what compression buys on a real network. Uses Debian's iproute2; removed again afterwards.
import { execFileSync } from 'node:child_process';

export interface Link {
  /** The receiver's address inside the link. */
  readonly receiverHost: string;
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
  return {
    receiverHost: '10.77.0.2',
    sender: inside(SENDER_NS),
    receiver: inside(RECEIVER_NS),
    describe: () =>
      shaping === 'netem'
        ? `emulated link: ${rate} each way, ${rttMs} ms round trip (netem in two network namespaces)`
        : `emulated link: ${rate} each way (tbf in two network namespaces); this kernel has no netem, so the ${rttMs} ms round trip is NOT emulated`,
    remove,
  };
}

function remove(): void {
  for (const ns of [SENDER_NS, RECEIVER_NS]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not there
    }
  }
}
