import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: tests run compiled from dist/test/<dir>/. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const vectorsPath = join(projectRoot, 'test', 'vectors', 'noise-25519-aesgcm-sha256.json');
export const cliPath = join(projectRoot, 'dist', 'src', 'bootstrap', 'main.js');
