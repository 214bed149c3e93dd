// The Gateway Nodes page with a real second node: a `gantry serve --role gateway` process on
// the console's own database (SQLite here; the Rust cluster tests run three processes on
// PostgreSQL). After a release both nodes are in sync and the new node serves it; stopped,
// it is shown stale.
import { expect, test } from './fixtures';
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGroup, hydrated, logIn } from './helpers';

const ROOT = resolve(__dirname, '../..');
const NODE_GATEWAY_PORT = 8190;

function startGatewayNode(): Promise<ChildProcess> {
  const child = spawn(join(ROOT, 'target/release/gantry'), ['serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      GANTRY_ROLE: 'gateway',
      GANTRY_DATA_DIR: mkdtempSync(join(tmpdir(), 'gantry-e2e-node-')),
      GANTRY_DATABASE_URL: `sqlite://${join(ROOT, 'target/e2e-data/gantry.db')}`,
      GANTRY_GATEWAY_ADDR: `127.0.0.1:${NODE_GATEWAY_PORT}`,
      GANTRY_GATEWAY_TLS_ADDR: '127.0.0.1:0',
      GANTRY_ADMIN_ADDR: '127.0.0.1:0',
      GANTRY_POLL_INTERVAL_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ready, fail) => {
    let seen = '';
    child.stdout!.on('data', (chunk) => {
      seen += chunk.toString();
      if (seen.includes('Gantry is listening')) ready(child);
    });
    child.on('exit', (code) => fail(new Error(`the gateway node exited (${code}): ${seen}`)));
  });
}

test('Gateway Nodes shows two nodes in sync after a release, and one stale once stopped', async ({ page, request }) => {
  await logIn(page);
  const node = await startGatewayNode();
  try {
    await createGroup(page, 'nodesgroup');
    const admin = '/api/admin/v1';
    const made = await page.request.post(`${admin}/groups/nodesgroup/apis`, {
      data: { name: 'Hello', request: { method: 'GET', path: '/hello' } },
    });
    expect(made.status()).toBe(201);
    expect((await page.request.post(`${admin}/groups/nodesgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
    const released = await page.request.put(`${admin}/groups/nodesgroup/deployments/test`, {
      data: { version: '1', backend: { type: 'mock' } },
    });
    expect(released.status()).toBe(200);
    expect((await released.json()).rollout.pending).toEqual([]);

    // The second node serves the release it learned of from the database.
    const served = await request.get(`http://127.0.0.1:${NODE_GATEWAY_PORT}/hello`, {
      headers: { Host: 'nodesgroup.localhost', 'X-Ca-Stage': 'TEST' },
    });
    expect(served.status()).toBe(200);

    await page.getByRole('link', { name: 'Gateway Nodes' }).click();
    await expect(page.getByRole('heading', { name: 'Gateway Nodes' })).toBeVisible();
    await hydrated(page);
    const rows = page.getByRole('table', { name: 'Nodes' }).getByRole('row');
    const gatewayRow = rows.filter({ hasText: `127.0.0.1:${NODE_GATEWAY_PORT}` });
    await expect(rows.filter({ hasText: 'In sync' })).toHaveCount(2);
    await expect(gatewayRow).toContainText('gateway');

    node.kill('SIGTERM');
    await new Promise((done) => node.once('exit', done));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(gatewayRow).toContainText('Stale');
    await expect(rows.filter({ hasText: 'In sync' })).toHaveCount(1);
  } finally {
    node.kill('SIGKILL');
  }
});
