// Module hooks for a CLI run under test: every module file the run loads is appended, one URL a
// line, to the file named by ST_TEST_MODULE_LOG. Registered with `node --import` (see
// module-log-register.ts), so a test can say what a command did and did not load.
import { appendFileSync } from 'node:fs';

interface LoadContext {
  readonly format?: string | null | undefined;
}
type NextLoad = (url: string, context?: LoadContext) => Promise<unknown>;

export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<unknown> {
  const log = process.env['ST_TEST_MODULE_LOG'];
  if (log && url.startsWith('file:')) appendFileSync(log, `${url}\n`);
  return nextLoad(url, context);
}
