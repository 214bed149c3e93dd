// The backend request as a person configures it in the console, checked at a real backend:
// Advanced Configuration gives the API its own HTTP address; the editor sets the backend
// path, method, timeout, constant parameters (in a header, the query, a path segment and a
// form body field, the caller's own value overridden) and a system parameter (the client's
// IP as a header).
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';
import { echoBackend as echo } from './backends';

test('the editor and Advanced Configuration shape the request a real backend receives', async ({ page, request }) => {
  const [server, url] = await echo();
  try {
    await logIn(page);
    const admin = '/api/admin/v1';
    expect((await page.request.post(`${admin}/groups`, { data: { name: 'shapegroup', subdomain: 'shapegroup' } })).status()).toBe(201);
    const api = { name: 'Shaped', request: { method: 'GET', path: '/shaped' } };
    expect((await page.request.post(`${admin}/groups/shapegroup/apis`, { data: api })).status()).toBe(201);
    await page.goto('/groups/shapegroup');
    await hydrated(page);
    const row = page.getByRole('row', { name: /Shaped/ });

    // Advanced Configuration: the API's own HTTP backend.
    await row.getByRole('button', { name: 'Advanced Configuration' }).click();
    const dialog = page.getByRole('dialog', { name: 'Advanced Configuration' });
    await dialog.getByLabel('Unified configuration at the time of releasing groups').uncheck();
    await dialog.getByLabel('HTTP/HTTPS').check();
    await dialog.getByLabel('Backend address').fill(url);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toHaveCount(0);

    // The editor: path, method, timeout, two constants and a system parameter.
    await row.getByRole('link', { name: 'Edit' }).click();
    await expect(page.getByRole('heading', { name: 'Edit API' })).toBeVisible();
    await hydrated(page);
    await page.getByLabel('Backend path').fill('/seen/{tenant}');
    await page.getByLabel('Backend method').selectOption('POST');
    await page.getByLabel('Timeout (ms)').fill('3000');
    await page.getByRole('button', { name: 'Add constant' }).click();
    await page.getByLabel('Constant 1 name').fill('x-constant');
    await page.getByLabel('Constant 1 value').fill('fixed');
    await page.getByRole('button', { name: 'Add constant' }).click();
    await page.getByLabel('Constant 2 name').fill('lang');
    await page.getByLabel('Constant 2 location').selectOption('query');
    await page.getByLabel('Constant 2 value').fill('en');
    await page.getByRole('button', { name: 'Add constant' }).click();
    await page.getByLabel('Constant 3 name').fill('tenant');
    await page.getByLabel('Constant 3 location').selectOption('Path');
    await page.getByLabel('Constant 3 value').fill('acme');
    await page.getByRole('button', { name: 'Add constant' }).click();
    await page.getByLabel('Constant 4 name').fill('channel');
    await page.getByLabel('Constant 4 location').selectOption('Form body');
    await page.getByLabel('Constant 4 value').fill('gateway');
    await page.getByLabel('Constant 4 description').fill('which door the order came through');
    await page.getByRole('button', { name: 'Add system parameter' }).click();
    await page.getByLabel('System parameter 1', { exact: true }).selectOption('client_ip');
    await page.getByLabel('System parameter 1 header').fill('X-Client-IP');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('row', { name: /Shaped/ })).toBeVisible();
    const saved = await (await page.request.get(`${admin}/groups/shapegroup/apis`)).json();
    const constants = saved.items.find((a: { name: string }) => a.name === 'Shaped').backend.http.constants;
    expect(constants[3]).toEqual({ name: 'channel', in: 'form', value: 'gateway', description: 'which door the order came through' });

    // Released (the API's own backend, whatever the release says), then called.
    expect((await page.request.post(`${admin}/groups/shapegroup/versions`, { data: { label: '1' } })).status()).toBe(201);
    const live = await page.request.put(`${admin}/groups/shapegroup/deployments/test`, { data: { version: '1', backend: { type: 'mock' } } });
    expect(live.status()).toBe(200);
    const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/shaped?lang=fr`, {
      headers: { Host: 'shapegroup.localhost', 'X-Ca-Stage': 'TEST', 'X-Client-IP': '6.6.6.6', 'Content-Type': 'application/x-www-form-urlencoded' },
      data: 'item=7&channel=forged',
    });
    expect(response.status()).toBe(200);
    const seen = await response.json();
    expect(seen.method).toBe('POST');
    // The constants replace what the caller sent in their place.
    expect(seen.url).toBe('/seen/acme?lang=en');
    expect(seen.body).toBe('item=7&channel=gateway');
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen.headers['x-constant']).toBe('fixed');
    // The gateway's value, never the caller's.
    expect(seen.headers['x-client-ip']).toBe('127.0.0.1');
  } finally {
    server.close();
  }
});
