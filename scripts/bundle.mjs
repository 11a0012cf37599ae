// Bundles the compiled CLI (dist/src) and its JavaScript dependencies into dist/bundle, so a
// command starts by compiling a few files instead of resolving and linking about a thousand
// modules; --version loads only the entry's first module, --help the command line (docs/PERFORMANCE.md#start-up).
// esbuild-wasm is esbuild compiled to WebAssembly: no native binary to install.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild-wasm';

const external = [
  // Native addons and the WebAssembly codec load their own files at run time: they stay in
  // node_modules and are required from the bundle (the banner gives it a `require`).
  'better-sqlite3',
  'zstd-napi',
  'zstd-codec',
];

// TypeORM's DriverFactory requires every database driver it knows at load, and their code was a
// third of the application chunk, parsed and compiled at every start. The application opens
// SQLite through better-sqlite3 or PostgreSQL (src/adapters/persistence/typeorm); every other
// driver DriverFactory names is replaced by a module whose classes refuse to be made, so asking
// for one fails with a clear error instead of loading it (docs/PERFORMANCE.md#start-up).
const UNUSED_TYPEORM_DRIVERS = [
  'aurora-mysql',
  'aurora-postgres',
  'capacitor',
  'cockroachdb',
  'cordova',
  'expo',
  'mongodb',
  'mysql',
  'nativescript',
  'oracle',
  'react-native',
  'sap',
  'spanner',
  'sqljs',
  'sqlserver',
];
const onlyUsedTypeormDrivers = {
  name: 'only-used-typeorm-drivers',
  setup(build) {
    const driver = new RegExp(`^\\./(${UNUSED_TYPEORM_DRIVERS.join('|')})/\\w+Driver$`);
    build.onResolve({ filter: driver }, (args) =>
      args.importer.endsWith(join('typeorm', 'driver', 'DriverFactory.js'))
        ? { path: args.path, namespace: 'unused-typeorm-driver' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'unused-typeorm-driver' }, (args) => ({
      contents: [
        `const message = ${JSON.stringify(`this build of securetransfer has no TypeORM driver ${args.path}`)};`,
        // A class for any name the factory asks for; nothing for symbols or then (an await or
        // util.inspect of the module sees a plain object).
        "module.exports = new Proxy({}, { get: (_, name) => typeof name === 'symbol' || name === 'then' ? undefined : class { constructor() { throw new Error(message); } } });",
      ].join('\n'),
      loader: 'js',
    }));
  },
};

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
  plugins: [onlyUsedTypeormDrivers],
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
