import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: tests run compiled from dist/test/<dir>/. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const vectorsPath = join(projectRoot, 'test', 'vectors', 'noise-25519-aesgcm-sha256.json');
/** The bundled CLI (npm run build: tsc, then scripts/bundle.mjs): what `bin` and the README run. */
export const bundleDir = join(projectRoot, 'dist', 'bundle');
export const cliPath = join(bundleDir, 'securetransfer.js');
