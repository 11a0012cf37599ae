#!/usr/bin/env node
// The executable's first module: --version is answered from a constant, and only everything
// else loads the command line (clipanion and the command classes), which costs about a third of
// Node's own start (docs/PERFORMANCE.md#start-up).
import { VERSION } from './version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { main } = await import('./main.js');
  process.exitCode = await main(args);
}
