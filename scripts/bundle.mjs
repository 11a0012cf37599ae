// Bundles the compiled CLI (dist/src) and its JavaScript dependencies into dist/bundle, so a
// command starts by compiling two files instead of resolving and linking about a thousand
// modules: `--help` went from 0.72-0.99 s to 0.24-0.29 s on the bench machine (README,
// Performance). esbuild-wasm is esbuild compiled to WebAssembly: no native binary to install.
import { build } from 'esbuild-wasm';

const external = [
  // Native addons and the WebAssembly codec load their own files at run time: they stay in
  // node_modules and are required from the bundle (the banner gives it a `require`).
  'better-sqlite3',
  'zstd-napi',
  'zstd-codec',
];

await build({
  // The compression worker is its own entry, beside the CLI: the CLI starts it as
  // new URL('./zstd-worker-thread.js', import.meta.url), which resolves in both layouts.
  entryPoints: {
    securetransfer: 'dist/src/bootstrap/main.js',
    'zstd-worker-thread': 'dist/src/adapters/codec/zstd-worker-thread.js',
  },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  // CommonJS dependencies (TypeORM, log4js) call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
});
