import { defineConfig, devices } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The server is started by Playwright itself, from the repository root (it looks
// for target/site relative to its working directory), on a fresh SQLite database.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const bin = process.env.TAPELINE_BIN ?? 'target/debug/tapeline';
const repoRoot = path.resolve(__dirname, '..');
if (!fs.existsSync(path.resolve(repoRoot, bin))) {
  throw new Error(
    `Tapeline binary not found at ${path.resolve(repoRoot, bin)}: build it (with the WASM bundle) ` +
      'with bash scripts/build.sh, or point TAPELINE_BIN at one.',
  );
}

// The config file is evaluated in the main process and again in every worker;
// only the main process starts the web server, so only it needs a data dir.
const isWorker = process.env.TEST_WORKER_INDEX !== undefined;
const dataDir = isWorker ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'tapeline-e2e-'));
// Tests that need staff accounts create them with the binary's own command line, on the
// server's database: workers inherit these from the main process.
if (dataDir) {
  process.env.E2E_DATA_DIR = dataDir;
  process.env.E2E_BIN = path.resolve(repoRoot, bin);
}
if (dataDir && !process.env.E2E_KEEP_DATA) {
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
  webServer: {
    command: `${bin} serve`,
    cwd: repoRoot,
    env: {
      TAPELINE_DATA_DIR: dataDir,
      TAPELINE_LISTEN: `127.0.0.1:${port}`,
    },
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
