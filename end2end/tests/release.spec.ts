// Versions, Release and Deployment Management, checked against the real gateway.
import { APIRequestContext, expect, Page, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const HOST = 'relgroup.localhost';

/** What the gateway answers for GET /hello in a stage: status and body. */
async function gateway(request: APIRequestContext, stage: string): Promise<[number, string]> {
  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/hello`, {
    headers: { Host: HOST, 'X-Ca-Stage': stage },
  });
  return [response.status(), await response.text()];
}

async function setMockBody(page: Page, body: string) {
  await page.getByRole('row', { name: /Hello/ }).getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('heading', { name: 'Edit API' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Mock response body').fill(body);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Hello/ })).toBeVisible();
}

test('release, edit the draft, release again, switch back and take off-line', async ({ page, request }) => {
  await logIn(page);
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Group' }).click();
  const create = page.getByRole('dialog', { name: 'Create Group' });
  await create.getByLabel('Name').fill('relgroup');
  await create.getByLabel('Subdomain').fill('relgroup');
  await create.getByRole('button', { name: 'Save' }).click();
  await expect(create).toHaveCount(0);
  await page.getByLabel('Search').fill('relgroup');
  await page.getByRole('link', { name: 'relgroup' }).click();
  await hydrated(page);

  await page.getByRole('link', { name: 'Create API' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Hello');
  await page.getByLabel('Path', { exact: true }).fill('/hello');
  await page.getByLabel('Mock response body').fill('first body');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Hello/ })).toBeVisible();

  // Release a new version 1.0.0 to Test with the Mock backend.
  await page.getByRole('button', { name: 'Release' }).click();
  let dialog = page.getByRole('dialog', { name: 'Release' });
  await dialog.getByLabel('Version label').fill('1.0.0');
  await dialog.getByLabel('Environment').selectOption('test');
  await dialog.getByLabel('Backend', { exact: true }).selectOption('mock');
  await dialog.getByLabel('Note').fill('first release');
  await dialog.getByRole('button', { name: 'Release' }).click();
  await expect(dialog).toHaveCount(0);
  expect(await gateway(request, 'TEST')).toEqual([200, 'first body']);
  expect((await gateway(request, 'RELEASE'))[0]).toBe(404);

  // Editing the draft changes nothing live.
  await setMockBody(page, 'second body');
  expect(await gateway(request, 'TEST')).toEqual([200, 'first body']);

  // A bad address is refused at its field, nothing changes.
  await page.getByRole('button', { name: 'Release' }).click();
  dialog = page.getByRole('dialog', { name: 'Release' });
  await dialog.getByLabel('Version label').fill('1.1.0');
  await dialog.getByLabel('Environment').selectOption('test');
  await dialog.getByLabel('Backend', { exact: true }).selectOption('http');
  await dialog.getByLabel('Backend address').fill('not-an-address');
  await dialog.getByRole('button', { name: 'Release' }).click();
  await expect(dialog.getByLabel('Backend address')).toHaveAccessibleDescription(/http:\/\/ or https:\/\//);
  expect(await gateway(request, 'TEST')).toEqual([200, 'first body']);

  // Release a new version with Mock: the new body.
  await dialog.getByLabel('Backend', { exact: true }).selectOption('mock');
  await dialog.getByLabel('Version label').fill('1.2.0');
  await dialog.getByRole('button', { name: 'Release' }).click();
  await expect(dialog).toHaveCount(0);
  expect(await gateway(request, 'TEST')).toEqual([200, 'second body']);

  // The Version Modification List shows the changed field.
  const tabs = page.getByRole('navigation', { name: 'Group' });
  await tabs.getByRole('link', { name: 'Version Modification List' }).click();
  const row = page.getByRole('row', { name: /1\.2\.0/ });
  await expect(row).toContainText('Test');
  await row.getByRole('button', { name: 'Details' }).click();
  await expect(row.getByText('backend.mock.body')).toBeVisible();

  // Deployment Management: Switch Version back to 1.0.0, then Off-line.
  await tabs.getByRole('link', { name: 'Deployment Management' }).click();
  const testCard = page.getByRole('region', { name: 'Test' });
  await expect(testCard.locator('.live-version')).toHaveText('1.2.0');
  await testCard.getByRole('button', { name: 'Switch Version' }).click();
  const switchDialog = page.getByRole('dialog', { name: 'Switch Version' });
  await switchDialog.getByLabel('Version').selectOption('1.0.0');
  await expect(switchDialog.getByText('backend.mock.body')).toBeVisible();
  await switchDialog.getByRole('button', { name: 'Switch' }).click();
  await expect(switchDialog).toHaveCount(0);
  await expect(testCard.locator('.live-version')).toHaveText('1.0.0');
  expect(await gateway(request, 'TEST')).toEqual([200, 'first body']);

  await testCard.getByRole('button', { name: 'Off-line' }).click();
  await page.getByRole('dialog', { name: 'Off-line' }).getByRole('button', { name: 'Off-line' }).click();
  await expect(testCard.getByText('Not released.')).toBeVisible();
  expect((await gateway(request, 'TEST'))[0]).toBe(404);

  const history = page.getByRole('table', { name: 'History' });
  await expect(history.getByRole('row')).toHaveCount(5);
  await expect(history.getByRole('row').nth(1)).toContainText('offline');
});

test('a custom domain pinned to Test serves the Test version without X-Ca-Stage', async ({ page, request }) => {
  await logIn(page);
  await hydrated(page);
  for (const [path, body] of [
    ['/api/admin/v1/groups', { name: 'domaingroup', subdomain: 'domaingroup' }],
    ['/api/admin/v1/groups/domaingroup/apis', { name: 'Hello', request: { method: 'GET', path: '/hello' }, backend: { mock: { body: 'via domain' } } }],
    ['/api/admin/v1/groups/domaingroup/versions', { label: '1' }],
  ] as const) {
    expect((await page.request.post(path, { data: body })).status()).toBe(201);
  }
  const released = await page.request.put('/api/admin/v1/groups/domaingroup/deployments/test', {
    data: { version: '1', backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);

  await page.goto('/groups/domaingroup/deployments');
  await hydrated(page);
  await page.getByLabel('Host').fill('bad host');
  await page.getByRole('button', { name: 'Add Domain' }).click();
  await expect(page.getByLabel('Host')).toHaveAccessibleDescription(/may contain only/);
  await page.getByLabel('Host').fill('shop.example.test');
  await page.getByLabel('Domain environment').selectOption('test');
  await page.getByRole('button', { name: 'Add Domain' }).click();
  const row = page.getByRole('table', { name: 'Custom domains' }).getByRole('row', { name: /shop\.example\.test/ });
  await expect(row).toContainText('Test');

  const call = () => request.get(`http://127.0.0.1:${GATEWAY_PORT}/hello`, { headers: { Host: 'shop.example.test' } });
  let response = await call();
  expect(response.status()).toBe(200);
  expect(await response.text()).toBe('via domain');

  // Remove asks first and says what callers will see.
  await row.getByRole('button', { name: 'Remove' }).click();
  const confirm = page.getByRole('dialog', { name: 'Remove Domain' });
  await expect(confirm).toContainText('get 404 from their next request');
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText('No custom domains.')).toBeVisible();
  response = await call();
  expect(response.status()).toBe(404);
});
