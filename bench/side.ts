// One side of a benchmark run: a folder with its own HOME, database, log and output folder, and
// the environment that points the CLI at them (rate limit off, warnings only).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

export interface Side {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

export function freshSide(root: string, name: string, extra: NodeJS.ProcessEnv = {}): Side {
  const dir = mkdtempSync(join(root, `${name}-`));
  mkdirSync(join(dir, 'home'));
  return {
    dir,
    env: {
      PATH: process.env['PATH'],
      HOME: join(dir, 'home'),
      DB_PATH: join(dir, 'st.db'),
      ST_LOG_PATH: join(dir, 'logs', 'st.log'),
      ST_OUTPUT_DIR: join(dir, 'received'),
      ST_RATE_LIMIT_BYTES_PER_SEC: '0',
      LOG_LEVEL: 'WARN',
      ...extra,
    },
  };
}
