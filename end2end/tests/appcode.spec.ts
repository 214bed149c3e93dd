// AppCode in the query string (Alibaba's "AppCode Authentication (Header & Query)"): an app's
// API takes `?AppCode=` by default, and the editor's "AppCode location" turns that off; the
// real gateway then treats the query parameter as no credential at all.
import { expect, test } from './fixtures';
import { CONSOLE_PORT, GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

test('choose where an API takes its AppCode, and the gateway follows', async ({ page, request }) => {
  await logIn(page);
  const admin = '/api/admin/v1';
  expect((await page.request.post(`${admin}/groups`, { data: { name: 'codegroup', subdomain: 'codegroup' } })).status()).toBe(201);
  const made = await page.request.post(`${admin}/groups/codegroup/apis`, {
    data: { name: 'Secret', auth: 'app', request: { method: 'GET', path: '/secret' } },
  });
  expect(made.status()).toBe(201);
  const id = (await made.json()).id;
  // A real HTTP backend (the console's login page), so the gateway authenticates callers.
  const release = async (label: string) => {
    expect((await page.request.post(`${admin}/groups/codegroup/versions`, { data: { label } })).status()).toBe(201);
    const live = await page.request.put(`${admin}/groups/codegroup/deployments/test`, {
      data: { version: label, backend: { type: 'http', address: `http://127.0.0.1:${CONSOLE_PORT}` } },
    });
    expect(live.status()).toBe(200);
  };
  const call = async () => {
    const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/secret?AppCode=not-a-code`, {
      headers: { Host: 'codegroup.localhost', 'X-Ca-Stage': 'TEST' },
    });
    return [response.status(), response.headers()['x-ca-error-code']];
  };
  await release('1');
  // The default: the query parameter is read as an AppCode (and this one is wrong).
  expect(await call()).toEqual([401, 'InvalidAppCode']);

  await page.goto(`/groups/codegroup/apis/${id}`);
  await hydrated(page);
  const location = page.getByLabel('AppCode location');
  await expect(location).toHaveValue('header_and_query');
  await location.selectOption({ label: 'Header only (Authorization: APPCODE …)' });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Secret/ })).toBeVisible();
  await page.goto(`/groups/codegroup/apis/${id}`);
  await hydrated(page);
  await expect(page.getByLabel('AppCode location')).toHaveValue('header');
  // Anonymous APIs have no AppCode to place.
  await page.getByLabel('Authentication').selectOption('none');
  await expect(page.getByLabel('AppCode location')).toHaveCount(0);

  await release('2');
  // Header only: the query parameter is no credential, so none was sent.
  expect(await call()).toEqual([401, 'MissingCredentials']);
});
