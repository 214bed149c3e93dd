// A backend service with several targets, set in the console's Set URL dialog: traffic
// through the real gateway shares out by weight, a dead target is skipped without a failed
// call, and the Backend health table shows it ejected while the live ones stay healthy.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { deadUrl, textBackend as backend } from './backends';
import { hydrated, logIn } from './helpers';

test('several weighted targets share the traffic; a dead one is ejected and shown so', async ({ page, request }) => {
  const [heavy, heavyUrl] = await backend('heavy');
  const [light, lightUrl] = await backend('light');
  const dead = await deadUrl();
  try {
    await logIn(page);
    const created = await page.request.post('/api/admin/v1/backend-services', { data: { name: 'pool', type: 'http' } });
    expect(created.status()).toBe(201);
    await page.goto('/backend-services/pool');
    await hydrated(page);
    await page.getByRole('tab', { name: 'Test' }).click();
    await page.getByRole('button', { name: 'Set URL' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set URL' });
    // A hostile list is refused at its field, naming the target.
    await dialog.getByLabel('URL').fill(`${heavyUrl} weight=3, ${heavyUrl}`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog.getByText('target 2:')).toBeVisible();
    await dialog.getByLabel('URL').fill(`${heavyUrl} weight=3, ${lightUrl}, ${dead}`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByTestId('service-url')).toHaveText(`${heavyUrl} weight=3, ${lightUrl}, ${dead}`);

    // An API on the service, live on Test.
    const admin = '/api/admin/v1';
    expect((await page.request.post(`${admin}/groups`, { data: { name: 'poolgroup', subdomain: 'poolgroup' } })).status()).toBe(201);
    const api = { name: 'Pooled', request: { method: 'GET', path: '/pooled' }, backend: { unified: false, type: 'http', http: { service: 'pool', path: '/' } } };
    expect((await page.request.post(`${admin}/groups/poolgroup/apis`, { data: api })).status()).toBe(201);
    expect((await page.request.post(`${admin}/groups/poolgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
    const live = await page.request.put(`${admin}/groups/poolgroup/deployments/test`, { data: { version: '1', backend: { type: 'mock' } } });
    expect(live.status()).toBe(200);

    // 50 calls: none fails, the dead target's turns go to the others, 3:1 between them.
    const seen: Record<string, number> = {};
    for (let i = 0; i < 50; i++) {
      const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/pooled`, {
        headers: { Host: 'poolgroup.localhost', 'X-Ca-Stage': 'TEST' },
      });
      expect(response.status()).toBe(200);
      const body = await response.text();
      seen[body] = (seen[body] ?? 0) + 1;
    }
    expect(seen['heavy'] + seen['light']).toBe(50);
    expect(seen['heavy']).toBeGreaterThan(seen['light'] * 2);

    // Backend Services: the dead target is ejected, the live ones healthy.
    await page.goto('/backend-services');
    const health = page.getByRole('table', { name: 'Backend health' });
    await expect(health.getByRole('row', { name: new RegExp(dead.replace(/[.:/]/g, '\\$&') + '\\b') })).toContainText('Ejected (failures)');
    await expect(health.getByRole('row', { name: new RegExp(heavyUrl.replace(/[.:/]/g, '\\$&') + '\\b') })).toContainText('Healthy');
    await expect(health.getByRole('row', { name: new RegExp(lightUrl.replace(/[.:/]/g, '\\$&') + '\\b') })).toContainText('pool');
  } finally {
    heavy.close();
    light.close();
  }
});
