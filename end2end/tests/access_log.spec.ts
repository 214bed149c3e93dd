// The Access Log page: a request refused by the real gateway is found by the request id the
// caller received, and its line opens the Debug API with its group, environment and API
// already chosen.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { createGroup, hydrated, logIn } from './helpers';

test('find an error response by its request id and open it in the Debug API', async ({ page, request }) => {
  await logIn(page);
  await createGroup(page, 'loggroup');
  const admin = '/api/admin/v1';
  const made = await page.request.post(`${admin}/groups/loggroup/apis`, {
    data: {
      name: 'Find',
      request: { method: 'GET', path: '/find', params: [{ name: 'q', in: 'query', type: 'string', required: true }] },
    },
  });
  expect(made.status()).toBe(201);
  const id = (await made.json()).id;
  expect((await page.request.post(`${admin}/groups/loggroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  // An HTTP backend (a Mock API would answer before parameters are checked); nothing needs
  // to listen there: the call below is refused before the gateway would call it.
  expect((await page.request.put(`${admin}/groups/loggroup/deployments/test`, {
    data: { version: '1', backend: { type: 'http', address: 'http://127.0.0.1:9' } },
  })).status()).toBe(200);

  // A call without its required parameter: refused by the gateway, with a request id.
  const refused = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/find`, {
    headers: { Host: 'loggroup.localhost', 'X-Ca-Stage': 'TEST' },
  });
  expect(refused.status()).toBe(400);
  const requestId = refused.headers()['x-ca-request-id'];
  expect(requestId).toBeTruthy();

  await page.getByRole('link', { name: 'Access Log' }).click();
  await expect(page.getByRole('heading', { name: 'Access Log' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Request ID').fill(requestId);
  await page.getByRole('button', { name: 'Search' }).click();
  const rows = page.getByRole('table', { name: 'Requests' }).locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(requestId);
  await expect(rows.first()).toContainText('400');
  await expect(rows.first()).toContainText('Find');

  // A time window: from the future finds nothing; without it the line is back.
  await hydrated(page);
  await page.getByLabel('From (UTC)').fill('2999-01-01T00:00');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/from=2999/);
  await expect(page.getByText('No requests match.')).toBeVisible();
  await hydrated(page);
  await page.getByLabel('From (UTC)').fill('2000-01-01T00:00');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(1);

  await rows.first().getByRole('link', { name: 'Open in Debug API' }).click();
  await expect(page.getByRole('heading', { name: 'Debug API' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByLabel('Group')).toHaveValue('loggroup');
  await expect(page.getByLabel('Environment')).toHaveValue('test');
  await expect(page.getByLabel('API')).toHaveValue(String(id));
});
