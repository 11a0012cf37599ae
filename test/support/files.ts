import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function writeRandomFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  for (let left = size; left > 0;) {
    const n = Math.min(left, 4 * 1024 * 1024);
    writeSync(fd, randomBytes(n));
    left -= n;
  }
  closeSync(fd);
}

/** Log-like text: repetitive structure with varying numbers, as real logs compress. */
export function writeTextFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  let written = 0;
  let i = 0;
  const levels = ['INFO', 'WARN', 'DEBUG', 'ERROR'];
  while (written < size) {
    let chunk = '';
    for (let k = 0; k < 2000; k++, i++) {
      chunk += `2026-11-29T12:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z ${levels[i % 4]} request id=${(i * 2654435761) % 1000003} path=/api/v1/items/${i % 9973} status=${200 + (i % 5)} took=${(i * 31) % 997}ms\n`;
    }
    const buf = Buffer.from(chunk).subarray(0, Math.min(Buffer.byteLength(chunk), size - written));
    writeSync(fd, buf);
    written += buf.length;
  }
  closeSync(fd);
}

export function writeBytes(path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
}
