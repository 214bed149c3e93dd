// The API editor's Protocol and WebSocket fields: an API made HTTPS-only in the console is
// refused over plain HTTP by the real gateway (403 HttpsRequired); a bad WebSocket idle
// timeout is refused at its field, a good one is saved and comes back in the editor.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { createGroup, hydrated, logIn } from './helpers';

test('make an API HTTPS-only and a WebSocket API from the editor', async ({ page, request }) => {
  await logIn(page);
  await createGroup(page, 'protogroup');
  const admin = '/api/admin/v1';
  const made = await page.request.post(`${admin}/groups/protogroup/apis`, {
    data: { name: 'Guarded', request: { method: 'GET', path: '/guarded' } },
  });
  expect(made.status()).toBe(201);
  const id = (await made.json()).id;

  // Protocol: HTTPS only.
  await page.goto(`/groups/protogroup/apis/${id}`);
  await hydrated(page);
  await page.getByLabel('Protocol').selectOption('https');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Guarded/ })).toBeVisible();
  expect((await page.request.post(`${admin}/groups/protogroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  expect((await page.request.put(`${admin}/groups/protogroup/deployments/test`, {
    data: { version: '1', backend: { type: 'mock' } },
  })).status()).toBe(200);
  const plain = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/guarded`, {
    headers: { Host: 'protogroup.localhost', 'X-Ca-Stage': 'TEST' },
  });
  expect(plain.status()).toBe(403);
  expect(plain.headers()['x-ca-error-code']).toBe('HttpsRequired');

  // WebSocket: a bad idle timeout is refused at its field and what was typed stays.
  await page.goto(`/groups/protogroup/apis/${id}`);
  await hydrated(page);
  await expect(page.getByLabel('Protocol')).toHaveValue('https');
  await page.getByLabel(/WebSocket API/).check();
  const idle = page.getByLabel('WebSocket idle timeout (s)');
  await idle.fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(idle).toHaveAccessibleDescription(/between 1 and 86400/);
  await expect(idle).toHaveValue('0');
  await idle.fill('45');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Guarded/ })).toBeVisible();
  const saved = await (await page.request.get(`${admin}/groups/protogroup/apis/${id}`)).json();
  expect(saved.request).toMatchObject({ protocol: 'https', websocket: true, websocket_idle_s: 45 });
  await page.goto(`/groups/protogroup/apis/${id}`);
  await hydrated(page);
  await expect(page.getByLabel(/WebSocket API/)).toBeChecked();
  await expect(page.getByLabel('WebSocket idle timeout (s)')).toHaveValue('45');
});
