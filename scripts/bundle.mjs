// Bundles the compiled CLI (dist/src) and its JavaScript dependencies into dist/bundle, so a
// command starts by compiling a few files instead of resolving and linking about a thousand
// modules; --version loads only the entry's first module, --help the command line (docs/PERFORMANCE.md#start-up).
// esbuild-wasm is esbuild compiled to WebAssembly: no native binary to install.
import { rmSync } from 'node:fs';
import { build } from 'esbuild-wasm';

const external = [
  // Native addons and the WebAssembly codec load their own files at run time: they stay in
  // node_modules and are required from the bundle (the banner gives it a `require`).
  'better-sqlite3',
  'zstd-napi',
  'zstd-codec',
];

// Chunk names carry a hash: a fresh folder keeps old chunks out of the package.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  // The compression worker is its own entry, beside the CLI: the CLI starts it as
  // new URL('./zstd-worker-thread.js', import.meta.url), which resolves in both layouts.
  entryPoints: {
    securetransfer: 'dist/src/bootstrap/cli-entry.js',
    'zstd-worker-thread': 'dist/src/adapters/codec/zstd-worker-thread.js',
  },
  outdir: 'dist/bundle',
  bundle: true,
  // What main.ts imports dynamically (the containers and everything behind them) goes into chunks
  // loaded only when a command runs: --version and --help parse a small file.
  splitting: true,
  // Chunks sit beside the entry points: the worker's URL is relative to the code that starts it.
  chunkNames: '[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  // CommonJS dependencies (TypeORM, log4js) call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  // Less text to decode and parse at every start (the application chunk 3.8 -> 2.4 MB; a 100 kB
  // send 546 -> 514 ms here, docs/PERFORMANCE.md#start-up). Identifiers stay, so stack traces
  // still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
