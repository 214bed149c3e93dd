// Canary releases in Deployment Management, checked against the real gateway: start a 50 %
// canary, see both versions answer (each response names its version in X-Ca-Version),
// see them apart on the API's Monitoring (a row and a line per version), adjust it to a
// header rule, promote it, see one version; then a canary rolled back.
import { APIRequestContext, expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const GROUP = 'canarygroup';
const admin = '/api/admin/v1';

async function call(request: APIRequestContext, headers: Record<string, string> = {}): Promise<[string, string]> {
  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/hello`, {
    headers: { Host: `${GROUP}.localhost`, 'X-Ca-Stage': 'TEST', ...headers },
  });
  expect(response.status()).toBe(200);
  return [await response.text(), response.headers()['x-ca-version']];
}

test('start a canary at 50 %, see both versions, promote it, see one', async ({ page, request }) => {
  await logIn(page);
  // Two versions with different mock bodies, 1.0.0 live on Test (made over REST: the
  // release flows have their own tests).
  expect((await page.request.post(`${admin}/groups`, { data: { name: GROUP, subdomain: GROUP } })).status()).toBe(201);
  const hello = { name: 'Hello', request: { method: 'GET', path: '/hello' }, backend: { mock: { body: 'stable one' } } };
  const created = await (await page.request.post(`${admin}/groups/${GROUP}/apis`, { data: hello })).json();
  expect((await page.request.post(`${admin}/groups/${GROUP}/versions`, { data: { label: '1.0.0' } })).status()).toBe(201);
  const changed = { ...hello, backend: { mock: { body: 'canary two' } } };
  expect((await page.request.put(`${admin}/groups/${GROUP}/apis/${created.id}`, { data: changed })).status()).toBe(200);
  expect((await page.request.post(`${admin}/groups/${GROUP}/versions`, { data: { label: '1.1.0' } })).status()).toBe(201);
  const live = await page.request.put(`${admin}/groups/${GROUP}/deployments/test`, { data: { version: '1.0.0', backend: { type: 'mock' } } });
  expect(live.status()).toBe(200);
  expect(await call(request)).toEqual(['stable one', '1.0.0']);

  await page.goto(`/groups/${GROUP}/deployments`);
  await hydrated(page);
  const testEnv = page.getByRole('region', { name: 'Test' });
  await testEnv.getByRole('button', { name: 'Start Canary' }).click();
  let dialog = page.getByRole('dialog', { name: 'Start Canary' });
  // A share out of range is refused at its field.
  await dialog.getByLabel('Canary version').selectOption('1.1.0');
  await dialog.getByLabel('Share (%)').fill('150');
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(dialog.getByText('must be between 0.1 and 99')).toBeVisible();
  await dialog.getByLabel('Share (%)').fill('50');
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(dialog).toHaveCount(0);
  const canary = page.getByRole('group', { name: 'Canary in Test' });
  await expect(canary).toContainText('1.1.0');
  await expect(canary).toContainText('50 % of callers');

  // Both versions answer through the gateway, each naming itself, about half each.
  const seen: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const [body, version] = await call(request);
    expect(body).toBe(version === '1.1.0' ? 'canary two' : 'stable one');
    seen[version] = (seen[version] ?? 0) + 1;
  }
  // An even spread, not a coin's luck: 18 to 22 of 40 on each side.
  expect(Math.abs(seen['1.0.0'] - 20)).toBeLessThanOrEqual(2);
  expect(Math.abs(seen['1.1.0'] - 20)).toBeLessThanOrEqual(2);

  // The API's Monitoring tells the versions apart: a row each with the requests it served
  // (1.0.0 also had the first call), and a line each on the version charts.
  await page.goto(`/groups/${GROUP}/apis/${created.id}/monitoring`);
  const byVersion = page.getByRole('table', { name: 'Traffic by version' });
  const served = (version: string) =>
    byVersion.getByRole('row', { name: new RegExp(`^${version.replace(/\./g, '\\.')} `) }).getByRole('cell').nth(1);
  await expect(async () => {
    await page.reload();
    await expect(served('1.1.0')).toHaveText(String(seen['1.1.0']), { timeout: 1000 });
    await expect(served('1.0.0')).toHaveText(String(seen['1.0.0'] + 1), { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  const lines = page.getByRole('figure', { name: 'Requests by version' });
  // The busier version's line is blue, the other's green.
  await expect(lines.locator('svg polyline[stroke="#1F6FEB"]').first()).toBeAttached();
  await expect(lines.locator('svg polyline[stroke="#1A7F37"]').first()).toBeAttached();
  await expect(lines.locator('svg text', { hasText: '1.1.0' }).first()).toBeAttached();
  await expect(page.getByRole('figure', { name: 'Latency by version' })).toBeVisible();

  // The Debug API, opened straight from a link with the group, API and environment chosen
  // (a page loaded whole, not reached by a click), forces either side.
  await page.goto(`/debug?group=${GROUP}&api=${created.id}&env=test`);
  await hydrated(page);
  await expect(page.getByLabel('API', { exact: true })).toHaveValue(String(created.id));
  const debugBody = page.getByTestId('debug-response-body');
  await page.getByLabel('Canary side').selectOption({ label: 'Canary version' });
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(debugBody).toHaveText('canary two');
  await page.getByLabel('Canary side').selectOption({ label: 'Stable version' });
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(debugBody).toHaveText('stable one');
  await page.goto(`/groups/${GROUP}/deployments`);
  await hydrated(page);

  // Adjust: only callers sending x-canary: 1.
  await canary.getByRole('button', { name: 'Adjust Canary' }).click();
  dialog = page.getByRole('dialog', { name: 'Adjust Canary' });
  await dialog.getByLabel('Callers').selectOption({ label: 'Callers sending a header' });
  await dialog.getByLabel('Header name').fill('x-canary');
  await dialog.getByLabel('Header value').fill('1');
  await dialog.getByLabel('Share (%)').fill('100');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(canary).toContainText('callers sending x-canary: 1');
  for (let i = 0; i < 5; i++) {
    expect(await call(request, { 'x-canary': '1' })).toEqual(['canary two', '1.1.0']);
    expect(await call(request)).toEqual(['stable one', '1.0.0']);
  }

  // Promote: one version for everyone; the history has each step.
  await canary.getByRole('button', { name: 'Promote' }).click();
  dialog = page.getByRole('dialog', { name: 'Promote Canary' });
  await expect(dialog).toContainText('gets version 1.1.0');
  await dialog.getByRole('button', { name: 'Promote' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(testEnv.locator('.live-version')).toHaveText('1.1.0');
  await expect(page.getByRole('group', { name: 'Canary in Test' })).toHaveCount(0);
  for (let i = 0; i < 5; i++) {
    expect(await call(request)).toEqual(['canary two', '1.1.0']);
  }
  const history = page.getByRole('table', { name: 'History' });
  for (const step of ['canary.start', 'canary.adjust', 'canary.promote']) {
    await expect(history.getByRole('cell', { name: step, exact: true })).toBeVisible();
  }

  // A canary of 1.0.0 rolled back: everyone keeps 1.1.0.
  await testEnv.getByRole('button', { name: 'Start Canary' }).click();
  dialog = page.getByRole('dialog', { name: 'Start Canary' });
  await dialog.getByLabel('Canary version').selectOption('1.0.0');
  await dialog.getByLabel('Share (%)').fill('99');
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(dialog).toHaveCount(0);
  await page.getByRole('group', { name: 'Canary in Test' }).getByRole('button', { name: 'Roll Back' }).click();
  dialog = page.getByRole('dialog', { name: 'Roll Back Canary' });
  await dialog.getByRole('button', { name: 'Roll Back' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('group', { name: 'Canary in Test' })).toHaveCount(0);
  await expect(history.getByRole('cell', { name: 'canary.rollback', exact: true })).toBeVisible();
  for (let i = 0; i < 5; i++) {
    expect(await call(request)).toEqual(['canary two', '1.1.0']);
  }
});
