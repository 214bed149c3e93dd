// From the API itself: mock response headers set in the editor reach callers through the
// gateway, and Debug API on an API List row (or the API page) opens the Debug page with
// the group, the API and the environment where it is live already chosen.
import { expect, test } from './fixtures';
import { CONSOLE_PORT, GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const GROUP = 'actgroup';
const admin = '/api/admin/v1';

test('mock headers from the editor, and Debug API from the API List and the API page', async ({ page, request }) => {
  await logIn(page);
  expect((await page.request.post(`${admin}/groups`, { data: { name: GROUP, subdomain: GROUP } })).status()).toBe(201);
  await page.goto(`/groups/${GROUP}`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Create API' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Hello');
  await page.getByLabel('Path', { exact: true }).fill('/hello');
  await page.getByLabel('Mock response body').fill('hello with headers');
  await page.getByRole('button', { name: 'Add mock header' }).click();
  await page.getByLabel('Mock header 1 name').fill('X-Served-By');
  await page.getByLabel('Mock header 1 value').fill('gantry mock');
  // A bad header name is refused at its row.
  await page.getByRole('button', { name: 'Add mock header' }).click();
  await page.getByLabel('Mock header 2 name').fill('bad name');
  await page.getByLabel('Mock header 2 value').fill('x');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.param-row').filter({ has: page.getByLabel('Mock header 2 name') }).locator('.field-error')).toBeVisible();
  await page.getByRole('button', { name: 'Remove mock header 2' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Hello/ })).toBeVisible();

  // Released to Pre-release (not Test), then called through the gateway.
  const released = await page.request.post(`${admin}/groups/${GROUP}/deployments/pre/draft`, {
    data: { version: { label: '1.0.0' }, backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);
  const answer = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/hello`, {
    headers: { Host: `${GROUP}.localhost`, 'X-Ca-Stage': 'PRE' },
  });
  expect(answer.status()).toBe(200);
  expect(answer.headers()['x-served-by']).toBe('gantry mock');
  expect(await answer.text()).toBe('hello with headers');

  // Debug API from the row: group, API and Pre-release chosen; Send answers.
  await page.reload();
  await hydrated(page);
  await page.getByRole('link', { name: 'Debug API Hello' }).click();
  await expect(page.getByRole('heading', { name: 'Debug API' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByLabel('Group')).toHaveValue(GROUP);
  await expect(page.getByLabel('Environment')).toHaveValue('pre');
  await page.getByRole('button', { name: 'Send' }).click();
  const response = page.getByRole('region', { name: 'Response' });
  await expect(response.getByTestId('debug-status')).toHaveText('200');
  await expect(response.getByTestId('debug-response-body')).toContainText('hello with headers');
  await expect(response).toContainText('gantry mock');

  // From the API page's tabs too.
  await page.goto(`/groups/${GROUP}`);
  await hydrated(page);
  await page.getByRole('row', { name: /Hello/ }).getByRole('link', { name: 'Edit' }).click();
  await hydrated(page);
  await expect(page.getByLabel('Mock header 1 value')).toHaveValue('gantry mock');
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Debug API' }).click();
  await hydrated(page);
  await expect(page.getByLabel('Environment')).toHaveValue('pre');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('region', { name: 'Response' }).getByTestId('debug-status')).toHaveText('200');
});

test('authorize apps from the API List row, and revoke on the API page', async ({ page, request }) => {
  await logIn(page);
  const group = 'authgroup';
  expect((await page.request.post(`${admin}/groups`, { data: { name: group, subdomain: group } })).status()).toBe(201);
  // A real backend (the console's login page): a Mock would answer before authentication.
  const secure = {
    name: 'Secure', auth: 'app', request: { method: 'GET', path: '/secure' },
    backend: { unified: false, type: 'http', http: { address: `http://127.0.0.1:${CONSOLE_PORT}`, path: '/login' } },
  };
  const created = await (await page.request.post(`${admin}/groups/${group}/apis`, { data: secure })).json();
  const released = await page.request.post(`${admin}/groups/${group}/deployments/test/draft`, {
    data: { version: { label: '1.0.0' }, backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);
  const codes: Record<string, string> = {};
  for (const name of ['authkiosk', 'authtablet']) {
    expect((await page.request.post(`${admin}/apps`, { data: { name } })).status()).toBe(201);
    codes[name] = (await (await page.request.get(`${admin}/apps/${name}?reveal=true`)).json()).app_code;
  }
  const callAs = async (app: string) =>
    (await request.get(`http://127.0.0.1:${GATEWAY_PORT}/secure`, {
      headers: { Host: `${group}.localhost`, 'X-Ca-Stage': 'TEST', Authorization: `APPCODE ${codes[app]}` },
    })).status();
  expect(await callAs('authkiosk')).toBe(403);

  await page.goto(`/groups/${group}`);
  await hydrated(page);
  await page.getByRole('row', { name: /Secure/ }).getByRole('button', { name: 'Authorize' }).click();
  const dialog = page.getByRole('dialog', { name: 'Authorize Secure' });
  // Nothing chosen: the field says so.
  await dialog.getByRole('button', { name: 'Authorize' }).click();
  await expect(dialog.getByText('choose at least one app')).toBeVisible();
  await dialog.getByLabel('Environment').selectOption('test');
  await dialog.getByLabel('authkiosk').check();
  await dialog.getByRole('button', { name: 'Authorize' }).click();
  await expect(dialog).toHaveCount(0);
  expect(await callAs('authkiosk')).toBe(200);
  expect(await callAs('authtablet')).toBe(403);

  // The API page lists it; Revoke (once confirmed) takes it back at once.
  await page.goto(`/groups/${group}/apis/${created.id}`);
  await hydrated(page);
  const authorized = page.getByRole('region', { name: 'Authorized Apps' });
  await expect(authorized).toContainText('authkiosk · Test');
  await authorized.getByRole('button', { name: 'Revoke authkiosk in Test' }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke Authorization' });
  await expect(confirm).toContainText('Stop app authkiosk calling Secure in Test?');
  await confirm.getByRole('button', { name: 'Revoke' }).click();
  await expect(authorized).toContainText('No app is authorized');
  expect(await callAs('authkiosk')).toBe(403);
  // And Authorize from the API page itself: both apps, in one go.
  await authorized.getByRole('button', { name: 'Authorize' }).click();
  const again = page.getByRole('dialog', { name: 'Authorize Secure' });
  await again.getByLabel('authkiosk').check();
  await again.getByLabel('authtablet').check();
  await again.getByRole('button', { name: 'Authorize' }).click();
  await expect(again).toHaveCount(0);
  await expect(authorized).toContainText('authtablet · Test');
  expect(await callAs('authtablet')).toBe(200);
});
