// The Debug API page: real calls through the gateway, with the gateway's trace.
import { expect, Page, test } from './fixtures';
import { CONSOLE_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const rest = '/api/admin/v1';

async function post(page: Page, path: string, data: object) {
  const response = await page.request.post(`${rest}${path}`, { data });
  expect(response.status(), await response.text()).toBe(201);
  return response.json();
}

test('debug a Mock API, an HTTP API and a signed API, and flag a missing parameter', async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  // Three APIs released to Test: a Mock one, an HTTP one with parameters, a signed one.
  const console = `http://127.0.0.1:${CONSOLE_PORT}`;
  await post(page, '/groups', { name: 'dbggroup', subdomain: 'dbggroup' });
  await post(page, '/groups/dbggroup/apis', {
    name: 'Ping', request: { method: 'GET', path: '/ping' },
    backend: { unified: false, type: 'mock', mock: { body: '{"pong":true}' } },
  });
  await post(page, '/groups/dbggroup/apis', {
    name: 'Page', request: {
      method: 'GET', path: '/pages/{id}',
      params: [{ name: 'id', in: 'path', type: 'int' }, { name: 'q', in: 'query', required: true }],
    },
    backend: { unified: false, type: 'http', http: { address: console, path: '/login' } },
  });
  const secure = await post(page, '/groups/dbggroup/apis', {
    name: 'Secure', auth: 'app', request: { method: 'GET', path: '/secure' },
    backend: { unified: false, type: 'http', http: { address: console, path: '/login' } },
  });
  await post(page, '/groups/dbggroup/versions', { label: '1' });
  const released = await page.request.put(`${rest}/groups/dbggroup/deployments/test`, {
    data: { version: '1', backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);
  await post(page, '/apps', { name: 'debugger' });
  await post(page, '/apps', { name: 'outsider' });
  await post(page, '/apps/debugger/authorizations', { group: 'dbggroup', apis: [secure.id], env: 'test' });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Debug API' }).click();
  await hydrated(page);
  await page.getByLabel('Group').selectOption('dbggroup');
  await page.getByLabel('Environment').selectOption('test');

  // A Mock API: the mock short-cut answers, no authentication.
  await page.getByLabel('API', { exact: true }).selectOption({ label: 'Ping · GET /ping' });
  await page.getByRole('button', { name: 'Send' }).click();
  const response = page.getByRole('region', { name: 'Response' });
  const trace = page.getByRole('region', { name: 'Trace' });
  await expect(response.getByTestId('debug-status')).toHaveText('200');
  await expect(response.getByTestId('debug-response-body')).toContainText('"pong": true');
  await expect(trace.getByRole('row', { name: /^mock answered/ })).toBeVisible();
  await expect(trace.getByRole('row', { name: /^authenticate skipped/ })).toBeVisible();
  await expect(trace.getByRole('row', { name: 'Mock short-cut yes' })).toBeVisible();

  // An HTTP API: a missing required parameter is flagged before anything is sent.
  await page.getByLabel('API', { exact: true }).selectOption({ label: 'Page · GET /pages/{id}' });
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('textbox', { name: 'id', exact: true })).toHaveAccessibleDescription('is required');
  await expect(page.getByRole('textbox', { name: 'q', exact: true })).toHaveAccessibleDescription('is required');
  await page.getByRole('textbox', { name: 'id', exact: true }).fill('7');
  await page.getByRole('textbox', { name: 'q', exact: true }).fill('abc');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(trace.getByTestId('debug-upstream-url')).toHaveText(`GET ${console}/login?q=abc`);
  await expect(trace.getByRole('table', { name: 'Upstream headers' }).getByRole('row', { name: /x-forwarded-for/ })).toBeVisible();
  await expect(response.getByTestId('debug-status')).toHaveText('200');
  await expect(trace.getByRole('row', { name: /^proxy ok backend answered 200/ })).toBeVisible();

  // A signed API: an authorized app gets 200, another one 403 at the authenticate phase.
  await page.getByLabel('API', { exact: true }).selectOption({ label: 'Secure · GET /secure' });
  await expect(page.getByLabel('App').locator('option').nth(1)).toHaveText('debugger (authorized)');
  await page.getByLabel('App').selectOption('debugger');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(response.getByTestId('debug-status')).toHaveText('200');
  await expect(trace.getByRole('row', { name: /^authenticate ok Signature: app `debugger` authorized/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Request' }).getByRole('row', { name: /x-ca-signature / })).toBeVisible();
  await page.getByLabel('App').selectOption('outsider');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(response.getByTestId('debug-status')).toHaveText('403');
  await expect(trace.getByRole('row', { name: /^Refused Unauthorized in phase authenticate/ })).toBeVisible();
  await expect(trace.getByRole('row', { name: /^proxy not reached/ })).toBeVisible();
});

test('a path parameter the API never declared still gets a field, and every refusal is shown', async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  // Saved as the editor allows: a path parameter in the template, none declared.
  await post(page, '/groups', { name: 'undeclared', subdomain: 'undeclared' });
  await post(page, '/groups/undeclared/apis', {
    name: 'Ping one', request: { method: 'GET', path: '/ping/{id}' },
    backend: { unified: false, type: 'mock', mock: { body: '{"pong":1}' } },
  });
  await post(page, '/groups/undeclared/versions', { label: '1' });
  const released = await page.request.put(`${rest}/groups/undeclared/deployments/test`, {
    data: { version: '1', backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);

  await page.goto('/debug');
  await hydrated(page);
  await page.getByLabel('Group').selectOption('undeclared');
  await page.getByLabel('Environment').selectOption('test');
  await page.getByLabel('API', { exact: true }).selectOption({ label: 'Ping one · GET /ping/{id}' });
  await expect(page.getByText('This API declares no parameters.')).toHaveCount(0);
  const id = page.getByRole('textbox', { name: 'id', exact: true });
  await expect(id).toBeVisible();

  // Left empty: flagged at the field before anything is sent.
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(id).toHaveAccessibleDescription('is required');

  await id.fill('7');
  await page.getByRole('button', { name: 'Send' }).click();
  const response = page.getByRole('region', { name: 'Response' });
  await expect(response.getByTestId('debug-status')).toHaveText('200');
  await expect(page.getByRole('region', { name: 'Request' })).toContainText('/ping/7');
  await expect(page.getByRole('region', { name: 'Trace' }).getByRole('row', { name: /^mock answered/ })).toBeVisible();

  // A refusal the form cannot foresee is shown too: a header line that is no header ...
  await page.getByLabel('Extra headers').fill('Bad Header: value');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('alert')).toContainText('headers.Bad Header');
  await page.getByLabel('Extra headers').fill('');

  // ... and an environment taken off-line after the page was opened.
  const offline = await page.request.delete(`${rest}/groups/undeclared/deployments/test`);
  expect(offline.ok()).toBeTruthy();
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByLabel('Environment')).toHaveAccessibleDescription(/nothing released in Test/);
});
