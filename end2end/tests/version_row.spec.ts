// Release from a row of the Versions tab: an existing version, to a real HTTP backend given
// as two targets in the Release dialog's address field, answered by both through the gateway;
// then the same version to Pre-release with one of them.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';
import { textBackend as backend } from './backends';

test('release an existing version from its row to two real HTTP targets', async ({ page, request }) => {
  const [first, firstUrl] = await backend('from the first target');
  const [second, secondUrl] = await backend('from the second target');
  try {
    await logIn(page);
    const admin = '/api/admin/v1';
    expect((await page.request.post(`${admin}/groups`, { data: { name: 'rowgroup', subdomain: 'rowgroup' } })).status()).toBe(201);
    const api = { name: 'Row', request: { method: 'GET', path: '/row' } };
    expect((await page.request.post(`${admin}/groups/rowgroup/apis`, { data: api })).status()).toBe(201);
    expect((await page.request.post(`${admin}/groups/rowgroup/versions`, { data: { label: '2.0.0' } })).status()).toBe(201);

    await page.goto('/groups/rowgroup/versions');
    await hydrated(page);
    const row = page.getByRole('row', { name: /2\.0\.0/ });
    await row.getByRole('button', { name: 'Release' }).click();
    const dialog = page.getByRole('dialog', { name: 'Release' });
    await dialog.getByLabel('Environment').selectOption('test');
    await dialog.getByLabel('Backend', { exact: true }).selectOption('http');
    await dialog.getByLabel('Backend address').fill(`${firstUrl}, ${secondUrl}`);
    await dialog.getByRole('button', { name: 'Release' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(row).toContainText('Test');

    // Both targets answer, in turn.
    const seen: Record<string, number> = {};
    for (let i = 0; i < 10; i++) {
      const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/row`, {
        headers: { Host: 'rowgroup.localhost', 'X-Ca-Stage': 'TEST' },
      });
      expect(response.status()).toBe(200);
      const body = await response.text();
      seen[body] = (seen[body] ?? 0) + 1;
    }
    expect(seen).toEqual({ 'from the first target': 5, 'from the second target': 5 });

    // The same row to Pre-release, with one target: PRE callers reach it, TEST ones still both.
    await row.getByRole('button', { name: 'Release' }).click();
    const again = page.getByRole('dialog', { name: 'Release' });
    await again.getByLabel('Environment').selectOption('pre');
    await again.getByLabel('Backend', { exact: true }).selectOption('http');
    await again.getByLabel('Backend address').fill(secondUrl);
    await again.getByRole('button', { name: 'Release' }).click();
    await expect(again).toHaveCount(0);
    await expect(row).toContainText('Test, Pre-release');
    for (let i = 0; i < 4; i++) {
      const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/row`, {
        headers: { Host: 'rowgroup.localhost', 'X-Ca-Stage': 'PRE' },
      });
      expect([response.status(), await response.text()]).toEqual([200, 'from the second target']);
    }
  } finally {
    first.close();
    second.close();
  }
});
