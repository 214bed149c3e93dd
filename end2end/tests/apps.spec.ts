// Apps: create one, authorize it for an API in Test, reveal and reset its credentials,
// checked against the real gateway with the app's AppCode.
import { APIRequestContext, expect, test } from './fixtures';
import { CONSOLE_PORT, GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const HOST = 'appgroup.localhost';

/** Calls GET /orders in Test with an AppCode (or none): status and X-Ca-Error-Code. */
async function orders(request: APIRequestContext, code?: string): Promise<[number, string]> {
  const headers: Record<string, string> = { Host: HOST, 'X-Ca-Stage': 'TEST' };
  if (code) headers.Authorization = `APPCODE ${code}`;
  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/orders`, { headers });
  return [response.status(), response.headers()['x-ca-error-code'] ?? ''];
}

test('create an app, authorize it in Test, reveal and reset its credentials', async ({ page, request }) => {
  await logIn(page);
  await hydrated(page);
  // An `auth = app` API released to Test; its backend is the console's public login page.
  const rest = '/api/admin/v1';
  expect((await page.request.post(`${rest}/groups`, { data: { name: 'appgroup', subdomain: 'appgroup' } })).status()).toBe(201);
  const api = {
    name: 'Orders', auth: 'app', request: { method: 'GET', path: '/orders' },
    backend: { http: { path: '/login' } },
  };
  expect((await page.request.post(`${rest}/groups/appgroup/apis`, { data: api })).status()).toBe(201);
  expect((await page.request.post(`${rest}/groups/appgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  const release = { version: '1', backend: { type: 'http', address: `http://127.0.0.1:${CONSOLE_PORT}` } };
  expect((await page.request.put(`${rest}/groups/appgroup/deployments/test`, { data: release })).status()).toBe(200);
  expect(await orders(request)).toEqual([401, 'MissingCredentials']);

  // Create App.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Apps' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Create App' }).click();
  const create = page.getByRole('dialog', { name: 'Create App' });
  await create.getByLabel('Name').fill('bad name');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create.getByText("may contain only letters, digits, '_' and '-'")).toBeVisible();
  await create.getByLabel('Name').fill('mobile');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create).toHaveCount(0);
  await page.getByRole('link', { name: 'mobile' }).click();
  await expect(page.getByRole('heading', { name: 'mobile' })).toBeVisible();
  await hydrated(page);

  // The secret and the AppCode are hidden until revealed.
  const secret = page.getByTestId('app-secret');
  await expect(secret).toHaveText('••••••••');
  await expect(page.getByTestId('app-code')).toHaveText('••••••••');
  await page.getByRole('button', { name: 'Reveal' }).click();
  await expect(page.getByTestId('app-code')).toHaveText(/^[0-9a-f]{32}$/);
  await expect(secret).toHaveText(/^[0-9a-f]{32}$/);
  const firstSecret = await secret.textContent();
  const code = (await page.getByTestId('app-code').textContent()) ?? '';
  expect(await orders(request, code)).toEqual([403, 'Unauthorized']);

  // Authorize it for Orders in Test.
  await page.getByRole('button', { name: 'Authorize' }).click();
  const authorize = page.getByRole('dialog', { name: 'Authorize' });
  await authorize.getByRole('button', { name: 'Authorize' }).click();
  await expect(authorize.getByText('pick at least one API')).toBeVisible();
  await authorize.getByLabel('Group').selectOption('appgroup');
  await authorize.getByLabel('Environment').selectOption('test');
  await authorize.getByRole('checkbox', { name: /Orders/ }).check();
  await authorize.getByRole('button', { name: 'Authorize' }).click();
  await expect(authorize).toHaveCount(0);
  const grants = page.getByRole('table', { name: 'Authorizations' });
  await expect(grants.getByRole('row', { name: /appgroup.*Orders.*Test/ })).toBeVisible();
  expect(await orders(request, code)).toEqual([200, '']);

  // Reset Secret: a new secret is shown.
  await page.getByRole('button', { name: 'Reset Secret' }).click();
  await page.getByRole('dialog', { name: 'Reset Secret' }).getByRole('button', { name: 'Reset' }).click();
  await expect(secret).toHaveText(/^[0-9a-f]{32}$/);
  await expect(secret).not.toHaveText(firstSecret ?? '');

  // Reset AppCode: the old code stops working at once.
  await page.getByRole('button', { name: 'Reset AppCode' }).click();
  await page.getByRole('dialog', { name: 'Reset AppCode' }).getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByTestId('app-code')).not.toHaveText(code);
  expect(await orders(request, code)).toEqual([401, 'InvalidAppCode']);
  const newCode = (await page.getByTestId('app-code').textContent()) ?? '';
  expect(await orders(request, newCode)).toEqual([200, '']);

  // Disable: refused with 403.
  await page.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByRole('button', { name: 'Enable' })).toBeVisible();
  expect(await orders(request, newCode)).toEqual([403, 'AppDisabled']);
  await page.getByRole('button', { name: 'Enable' }).click();
  await expect(page.getByRole('button', { name: 'Disable' })).toBeVisible();
  expect(await orders(request, newCode)).toEqual([200, '']);

  // The API's page lists the app.
  await page.goto('/groups/appgroup');
  await hydrated(page);
  await page.getByRole('row', { name: /Orders/ }).getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('region', { name: 'Authorized Apps' }).getByRole('link', { name: 'mobile' })).toBeVisible();

  // Revoke.
  await page.goto('/apps/mobile');
  await hydrated(page);
  await grants.getByRole('button', { name: 'Revoke' }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke Authorization' });
  await expect(confirm).toContainText('Its requests get 403 from the next one');
  await confirm.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('This app may not call any API yet.')).toBeVisible();
});
