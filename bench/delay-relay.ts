// A TCP relay that holds every chunk for a fixed time in each direction: the round trip of an
// emulated link on a kernel without netem (the bench's --link). It runs in the receiver's network
// namespace, listens on the link's address and forwards to the server on that namespace's
// loopback: what comes off the shaped queue is delayed, as on a real path, and the sender's
// window sees the round trip. The bytes it holds are what the path holds (rate x delay); a
// server that stops reading stops it reading too.
//
// node dist/bench/delay-relay.js LISTEN_HOST:LISTEN_PORT TARGET_HOST TARGET_PORT ONE_WAY_MS
import { createServer, connect, type Socket } from 'node:net';

const [listen, targetHost, targetPort, oneWayMs] = process.argv.slice(2);
const [listenHost, listenPort] = (listen ?? '').split(':');
const delay = Number(oneWayMs);
if (!listenHost || !listenPort || !targetHost || !targetPort || !Number.isFinite(delay) || delay < 0) {
  console.error('usage: delay-relay LISTEN_HOST:LISTEN_PORT TARGET_HOST TARGET_PORT ONE_WAY_MS');
  process.exit(2);
}

/** Forwards from one socket to the other, each chunk delay ms after it arrived, in order. */
function delayed(from: Socket, to: Socket): void {
  let waitingForDrain = false;
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (to.destroyed) return;
      // Back-pressure: the far side is full, so stop taking more until it drains.
      if (!to.write(chunk) && !waitingForDrain) {
        waitingForDrain = true;
        from.pause();
        to.once('drain', () => {
          waitingForDrain = false;
          from.resume();
        });
      }
    }, delay);
  });
  from.on('end', () => setTimeout(() => to.end(), delay));
}

const server = createServer((client) => {
  const upstream = connect(Number(targetPort), targetHost);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  delayed(client, upstream);
  delayed(upstream, client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', () => setTimeout(() => upstream.destroy(), delay + 1000));
  upstream.on('close', () => setTimeout(() => client.destroy(), delay + 1000));
});
server.listen(Number(listenPort), listenHost, () => console.log(`relaying ${listen} to ${targetHost}:${targetPort}, ${delay} ms each way`));
