// One build: bundles the extension host code, the engine process, the CLI and the webview with esbuild,
// type-checks nothing (npm run check does), then writes the specimen model into media/specimen.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';

// mainFields: packages such as jsonc-parser ship a UMD main that bundlers cannot follow; their ES modules bundle.
const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, mainFields: ['module', 'main'], external: ['vscode', 'onnxruntime-node'], logLevel: 'warning' };
await Promise.all([
  build({ ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...node, entryPoints: ['src/engine/engineMain.ts'], outfile: 'dist/engine.js' }),
  build({ ...node, entryPoints: ['src/engine/statsWorker.ts'], outfile: 'dist/statsWorker.js' }),
  build({ ...node, entryPoints: ['src/engine/memoryWatchdogWorker.ts'], outfile: 'dist/memoryWatchdogWorker.js' }),
  build({ ...node, entryPoints: ['src/memory/configScanWorker.ts'], outfile: 'dist/configScanWorker.js' }),
  build({ ...node, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' }),
  build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', minify: true, sourcemap: true, logLevel: 'warning', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' }),
  // the standalone report's stand-in host, which answers the webview from the report's data
  build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', minify: true, logLevel: 'warning', entryPoints: ['webview/reportHost.ts'], outfile: 'dist/reportHost.js' }),
]);
execFileSync(process.execPath, ['dist/cli.js', 'specimen', '--out', 'media/specimen'], { stdio: 'inherit' });
