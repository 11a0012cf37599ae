// Deterministic benchmark inputs: the same bytes on every run and machine, made fast.
import { createCipheriv } from 'node:crypto';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';

const CHUNK = 4 * 1024 * 1024;

/** Incompressible: the AES-256-CTR keystream under a fixed key. */
export function makeRandomFile(path: string, size: number): void {
  if (existsSync(path) && statSync(path).size === size) return;
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(CHUNK);
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size; done += CHUNK) writeSync(fd, cipher.update(zeros.subarray(0, Math.min(CHUNK, size - done))));
  } finally {
    closeSync(fd);
  }
}

/** Log-like text from a seeded generator: compresses about 4:1 with zstd, like real logs. */
export function makeTextFile(path: string, size: number): void {
  if (existsSync(path) && statSync(path).size === size) return;
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const paths = ['/api/v1/users', '/api/v1/orders', '/static/app.js', '/login', '/api/v1/search', '/health'];
  const methods = ['GET', 'GET', 'POST', 'PUT', 'DELETE'];
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    let t = Date.UTC(2026, 10, 1);
    while (written < size) {
      let block = '';
      while (block.length < CHUNK) {
        t += Math.floor(next() * 50);
        const ip = `10.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`;
        block += `${new Date(t).toISOString()} ${pick(levels)} ${ip} ${pick(methods)} ${pick(paths)}?id=${Math.floor(next() * 100000)} ${pick([200, 200, 200, 304, 404, 500])} ${Math.floor(next() * 900)}ms user=${Math.floor(next() * 5000)} session=${Math.floor(next() * 0xffffffff).toString(16)}\n`;
      }
      const bytes = Buffer.from(block).subarray(0, Math.min(CHUNK, size - written));
      writeSync(fd, bytes);
      written += bytes.length;
    }
  } finally {
    closeSync(fd);
  }
}
