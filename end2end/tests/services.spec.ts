// Backend services: one URL per environment shared by APIs of two groups; a URL change
// reaches both with no release, deleting it takes both off-line, and a release to an
// environment without a URL is refused.
import { APIRequestContext, expect, Page, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';
import { textBackend as backend } from './backends';

async function call(request: APIRequestContext, group: string, path: string): Promise<[number, string]> {
  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}${path}`, {
    headers: { Host: `${group}.localhost`, 'X-Ca-Stage': 'TEST' },
  });
  return [response.status(), await response.text()];
}

async function post(page: Page, path: string, data: object) {
  const response = await page.request.post(`/api/admin/v1${path}`, { data });
  expect(response.status(), await response.text()).toBe(201);
}

test('a backend service URL change reaches two groups without a release', async ({ page, request }) => {
  const [first, firstUrl] = await backend('from the first backend');
  const [second, secondUrl] = await backend('from the second backend');
  try {
    await logIn(page);
    await hydrated(page);

    // Create Backend Service, with a Test URL.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backend Services' }).click();
    await hydrated(page);
    await page.getByRole('button', { name: 'Create Backend Service' }).click();
    const create = page.getByRole('dialog', { name: 'Create Backend Service' });
    await create.getByLabel('Name').fill('shared');
    await create.getByLabel('Type').selectOption('http');
    await create.getByRole('button', { name: 'Create' }).click();
    await expect(create).toHaveCount(0);
    await page.getByRole('link', { name: 'shared' }).click();
    await expect(page.getByRole('heading', { name: 'shared' })).toBeVisible();
    await hydrated(page);
    await page.getByRole('tab', { name: 'Test' }).click();
    await page.getByRole('button', { name: 'Set URL' }).click();
    let dialog = page.getByRole('dialog', { name: 'Set URL' });
    await dialog.getByLabel('URL').fill('not a url');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog.getByLabel('URL')).toHaveAttribute('aria-invalid', 'true');
    await dialog.getByLabel('URL').fill(firstUrl);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByTestId('service-url')).toHaveText(firstUrl);

    // Two groups use it: svcone through the API's own configuration, svctwo through its release.
    await post(page, '/groups', { name: 'svcone', subdomain: 'svcone' });
    await post(page, '/groups/svcone/apis', {
      name: 'One', request: { method: 'GET', path: '/one' },
      backend: { unified: false, type: 'http', http: { service: 'shared', path: '/' } },
    });
    await post(page, '/groups/svcone/versions', { label: '1' });
    const released = await page.request.put('/api/admin/v1/groups/svcone/deployments/test', {
      data: { version: '1', backend: { type: 'mock' } },
    });
    expect(released.status()).toBe(200);
    await post(page, '/groups', { name: 'svctwo', subdomain: 'svctwo' });
    await post(page, '/groups/svctwo/apis', { name: 'Two', request: { method: 'GET', path: '/two' } });
    await page.goto('/groups/svctwo');
    await hydrated(page);
    await page.getByRole('button', { name: 'Release' }).click();
    const release = page.getByRole('dialog', { name: 'Release' });
    await release.getByLabel('Version label').fill('1.0.0');
    await release.getByLabel('Environment').selectOption('test');
    await release.getByLabel('Backend', { exact: true }).selectOption('service');
    await release.getByLabel('Backend service').selectOption('shared');
    await release.getByRole('button', { name: 'Release' }).click();
    await expect(release).toHaveCount(0);
    expect(await call(request, 'svcone', '/one')).toEqual([200, 'from the first backend']);
    expect(await call(request, 'svctwo', '/two')).toEqual([200, 'from the first backend']);

    // Change URL: the dialog lists both APIs; the next requests reach the second backend.
    await page.goto('/backend-services/shared');
    await hydrated(page);
    // Draft lists the API whose own configuration uses the service, and the unified one that
    // reaches it through its group's release; Test lists both live ones.
    await page.getByRole('tab', { name: 'Draft' }).click();
    const draft = page.getByRole('tabpanel', { name: 'Draft' });
    await expect(draft.getByRole('row', { name: /svcone One GET \/one draft Own configuration/ })).toBeVisible();
    await expect(draft.getByRole('row', { name: /svctwo Two GET \/two draft Group release in Test/ })).toBeVisible();
    await page.getByRole('tab', { name: 'Test' }).click();
    const apis = page.getByRole('table', { name: 'APIs using this service' });
    await expect(apis.getByRole('row')).toHaveCount(3);
    await page.getByRole('button', { name: 'Change URL' }).click();
    dialog = page.getByRole('dialog', { name: 'Change URL' });
    await expect(dialog.getByText('2 live API(s) in Test: svcone / One, svctwo / Two.')).toBeVisible();
    await dialog.getByLabel('URL').fill(secondUrl);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('service-url')).toHaveText(secondUrl);
    expect(await call(request, 'svcone', '/one')).toEqual([200, 'from the second backend']);
    expect(await call(request, 'svctwo', '/two')).toEqual([200, 'from the second backend']);
    await expect(page.getByRole('table', { name: 'History' }).getByRole('row', { name: new RegExp(`set_url Test ${firstUrl} ${secondUrl}`) })).toBeVisible();

    // Delete URL: both APIs go off-line in Test, and Deployment Management says why.
    await page.getByRole('button', { name: 'Delete URL' }).click();
    dialog = page.getByRole('dialog', { name: 'Delete URL' });
    await expect(dialog.getByText('svcone / One (GET /one)')).toBeVisible();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByRole('button', { name: 'Set URL' })).toBeVisible();
    expect((await call(request, 'svcone', '/one'))[0]).toBe(404);
    expect((await call(request, 'svctwo', '/two'))[0]).toBe(404);
    await page.goto('/groups/svcone/deployments');
    await hydrated(page);
    await expect(page.getByRole('note')).toContainText('One: backend service `shared` has no URL in Test');

    // A release to Production, where the service has no URL, is refused naming both.
    const refused = await page.request.put('/api/admin/v1/groups/svcone/deployments/prod', {
      data: { version: '1', backend: { type: 'mock' } },
    });
    expect(refused.status()).toBe(422);
    expect(JSON.stringify(await refused.json())).toContain('backend service `shared` has no URL in Production; used by API `One`');
  } finally {
    first.close();
    second.close();
  }
});

test('a backend service is renamed, described and deleted, but not while an API uses it', async ({ page }) => {
  await logIn(page);
  await post(page, '/backend-services', { name: 'oldname', type: 'http' });
  await page.goto('/backend-services/oldname');
  await hydrated(page);

  // Edit Service: a name that breaks the rules is refused at its field.
  await page.getByRole('button', { name: 'Edit Service' }).click();
  let dialog = page.getByRole('dialog', { name: 'Edit Service' });
  await dialog.getByLabel('Name').fill('bad name!');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Name').fill('newname');
  await dialog.getByLabel('Description').fill('orders, renamed');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page).toHaveURL(/\/backend-services\/newname$/);
  await expect(page.getByRole('heading', { name: 'newname', exact: true })).toBeVisible();
  await expect(page.getByText('HTTP/HTTPS · orders, renamed')).toBeVisible();

  // In use by a draft API: Delete Service says so and is refused.
  await post(page, '/groups', { name: 'svcdel', subdomain: 'svcdel' });
  const api = { name: 'Uses', request: { method: 'GET', path: '/uses' }, backend: { unified: false, type: 'http', http: { service: 'newname' } } };
  const created = await (await page.request.post('/api/admin/v1/groups/svcdel/apis', { data: api })).json();
  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete Service' }).click();
  dialog = page.getByRole('dialog', { name: 'Delete Service' });
  await expect(dialog).toContainText('1 API(s) use it');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(dialog.getByRole('alert')).toContainText('is in use by 0 live and 1 draft API(s)');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);

  // Unused again: deleted, and gone from the list.
  expect((await page.request.delete(`/api/admin/v1/groups/svcdel/apis/${created.id}`)).status()).toBe(204);
  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete Service' }).click();
  dialog = page.getByRole('dialog', { name: 'Delete Service' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(/\/backend-services$/);
  await expect(page.getByRole('link', { name: 'newname' })).toHaveCount(0);
});
