// A real VS Code for the end-to-end tests: code-server (installed by scripts/codeServer.mjs into
// .vscode-test/) with the packaged .vsix installed, served on loopback and driven in Debian's
// Chromium by playwright-core. Everything it writes (home, settings, logs, screenshots) lies
// under the run's folder in test-output/e2e/.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Browser, Frame, Page, chromium } from 'playwright-core';
import { REPO } from '../helpers/paths';

const TOOLS = join(REPO, '.vscode-test');
const NODE24 = join(TOOLS, 'node-24.21.0', 'bin', 'node');
const ENTRY = join(TOOLS, 'code-server-4.139.1', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const VSIX = join(REPO, 'attention-lens-linux-x64.vsix');
const CHROMIUM = process.env.ATTENTION_LENS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const E2E_OUTPUT = join(REPO, 'test-output', 'e2e');

/** What the e2e tests need that npm does not bring, or a message that says how to get it. */
export function missingTools(): string | undefined {
  if (!existsSync(ENTRY) || !existsSync(NODE24)) return 'code-server is not installed: run `node scripts/codeServer.mjs` (npm test does)';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}: apt-get install -y chromium libkrb5-dev`;
  if (!existsSync(VSIX)) return `no ${VSIX}: run npm run package (npm test does)`;
  return undefined;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

export interface InstanceOptions {
  /** a folder of its own under test-output/e2e */
  name: string;
  workspace: string;
  /** leave workspace trust on (the untrusted-workspace test) */
  trust?: boolean;
  settings?: Record<string, unknown>;
}

/** One code-server with the extension installed, and one Chromium page on it. */
export class VsCodeInstance {
  private server: ChildProcess | undefined;
  private browser: Browser | undefined;
  page!: Page;
  readonly root: string;
  readonly extensionsDir: string;
  readonly userDataDir: string;
  private shots = 0;

  /** the workspace folder VS Code has open */
  get workspaceFolder(): string {
    return this.opts.workspace;
  }

  constructor(private readonly opts: InstanceOptions) {
    this.root = join(E2E_OUTPUT, opts.name);
    this.extensionsDir = join(this.root, 'extensions');
    this.userDataDir = join(this.root, 'user-data');
  }

  private env(): NodeJS.ProcessEnv {
    const home = join(this.root, 'home');
    const tmp = join(this.root, 'tmp');
    mkdirSync(home, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    return { ...process.env, HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share') };
  }

  async start(): Promise<void> {
    const settings = {
      'telemetry.telemetryLevel': 'off',
      'chat.disableAIFeatures': true,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.ignoreRecommendations': true,
      'update.mode': 'none',
      'git.openRepositoryInParentFolders': 'never',
      ...this.opts.settings,
    };
    mkdirSync(join(this.userDataDir, 'User'), { recursive: true });
    writeFileSync(join(this.userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    const config = join(this.root, 'config.yaml');
    writeFileSync(config, 'auth: none\ncert: false\n');
    const dirs = ['--user-data-dir', this.userDataDir, '--extensions-dir', this.extensionsDir, '--config', config];
    execFileSync(NODE24, [ENTRY, ...dirs, '--install-extension', VSIX, '--force'], { env: this.env(), stdio: 'pipe' });
    const port = await freePort();
    const flags = ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override'];
    if (!this.opts.trust) flags.push('--disable-workspace-trust');
    this.server = spawn(NODE24, [ENTRY, ...dirs, ...flags, this.opts.workspace], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const serverLog: string[] = [];
    this.server.stdout!.on('data', (d: Buffer) => serverLog.push(d.toString()));
    this.server.stderr!.on('data', (d: Buffer) => serverLog.push(d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.server.exitCode !== null) throw new Error(`code-server exited with ${this.server.exitCode}: ${serverLog.join('')}`);
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url} within 60 s: ${serverLog.join('')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }); // a fresh profile of its own
    const context = await this.browser.newContext({ viewport: { width: 1400, height: 900 } });
    this.page = await context.newPage();
    await this.page.goto(`${url}/?folder=${encodeURIComponent(this.opts.workspace)}`);
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  }

  /**
   * Reloads the window, as Developer: Reload Window does. VS Code may be reloading it already (as
   * trust is taken away), which aborts this navigation or detaches the page under it: that reload
   * is the one waited for. Asking again would reload a workbench still restoring its editors, and
   * the next window would open without them.
   */
  async reload(): Promise<void> {
    // a reload VS Code is already making (trust taken away) has saved the state itself
    await this.saveState().catch((e: Error) => {
      if (!/Execution context was destroyed|navigation/.test(e.message)) throw e;
    });
    const failed = await this.page.reload().then(() => undefined, (e: Error) => e);
    if (failed) {
      if (!/ERR_ABORTED|frame was detached|Not attached to an active page/.test(failed.message)) throw failed;
      await this.page.waitForLoadState('load');
    }
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  }

  /**
   * Asks the workbench to write its state now (the open editors, each webview's state with them).
   * In the browser it writes when the page is hidden, and once a minute: a reload right after a
   * change (a panel just opened) would otherwise restore what was written before. The page is
   * hidden for a moment, as switching browser tabs would. A webview's state changed in the last
   * seconds may still miss it: a test that needs that state waits out the minute.
   */
  async saveState(): Promise<void> {
    const visibility = (hidden: boolean): string =>
      hidden
        ? `(() => { Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }); Object.defineProperty(document, 'hidden', { value: true, configurable: true }); document.dispatchEvent(new Event('visibilitychange')); })()`
        : `(() => { delete document.visibilityState; delete document.hidden; document.dispatchEvent(new Event('visibilitychange')); })()`;
    await this.page.evaluate(visibility(true));
    await this.page.waitForTimeout(2_000);
    await this.page.evaluate(visibility(false));
  }

  /** Runs a command from the palette (F1), retrying while the extension's commands register. */
  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    const deadline = Date.now() + 60_000;
    for (;;) {
      // Escape only closes a quick input left open: in an editor it would drop the selection.
      if (await input.isVisible()) await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      // Enter takes the focused row: wait until the filter has made it ours (the recently used
      // commands are listed, and focused, before the filter applies).
      const row = this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title });
      if (await row.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) {
        await this.page.keyboard.press('Enter');
        return;
      }
      if (Date.now() > deadline) throw new Error(`the command palette has no '${title}'`);
    }
  }

  /** The quick input (pick or input box) titled `title`, or the untitled one (Quick Open), once shown. */
  private async quickInput(title?: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    if (title) await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 30_000 });
    await widget.locator('input').first().waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** Picks the row holding `text` (typed as the filter) in the quick pick titled `title`. */
  async pick(text: string, title?: string): Promise<void> {
    await this.quickInput(title);
    await this.page.locator('.quick-input-widget input').first().fill(text);
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: text }).waitFor({ state: 'visible', timeout: 30_000 });
    await this.page.keyboard.press('Enter');
  }

  /** Accepts the value the input box titled `title` offers. */
  async acceptInput(title: string): Promise<void> {
    await this.quickInput(title);
    // the box may open while focus is still in a webview: Enter must reach the box
    await this.page.locator('.quick-input-widget input').first().focus();
    await this.page.keyboard.press('Enter');
  }

  /**
   * The webview frame in which `selector` matches. A webview's document is two iframes deep;
   * the frames are searched rather than named, since their ids change between releases.
   */
  async webviewFrame(selector: string, timeoutMs = 60_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame()) continue;
        if (await frame.$(selector).then((e) => e !== null, () => false)) return frame;
      }
      if (Date.now() > deadline) throw new Error(`no webview shows ${selector} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** A notification toast whose text matches, waited for. */
  async notification(text: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.waitForTimeout(500); // the toast fades in: screenshots after it has
    return toast.innerText();
  }

  async screenshot(name: string): Promise<string> {
    const dir = join(E2E_OUTPUT, 'screenshots');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${this.opts.name}-${String(++this.shots).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** The text of the extension's output channel, as VS Code writes it to the window's logs. */
  outputLog(): string {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('Attention Lens.log')) found.push(join(dir, e.name));
      }
    };
    walk(join(this.userDataDir, 'logs'));
    return found.map((f) => readFileSync(f, 'utf8')).join('\n');
  }

  /** Process ids of the extension's engine processes now running. */
  enginePids(): number[] {
    const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
    return ps
      .split('\n')
      .filter((line) => line.includes(this.extensionsDir) && line.includes('engine.js'))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    if (this.server && this.server.exitCode === null) {
      const exited = new Promise((r) => this.server!.once('exit', r));
      this.server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.server.exitCode === null) this.server.kill('SIGKILL');
    }
    for (const pid of this.enginePids()) process.kill(pid, 'SIGKILL');
  }
}
