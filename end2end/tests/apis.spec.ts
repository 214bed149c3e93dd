// API groups and API definitions: the API List, the API editor and Advanced Configuration.
import { expect, Page, test } from './fixtures';
import { createGroup, hydrated, logIn } from './helpers';

/** Creates a group through the Create Group dialog and opens its page. */
async function createGroupAndOpen(page: Page, name: string) {
  await createGroup(page, name);
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  for (const tab of ['API List', 'Version Modification List', 'Deployment Management', 'SDK & Docs']) {
    await expect(page.getByRole('navigation', { name: 'Group' }).getByRole('link', { name: tab })).toBeVisible();
  }
}

test.beforeEach(async ({ page }) => {
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
});

test('a group is created, and a bad subdomain is shown at its field', async ({ page }) => {
  await page.goto('/groups');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Group' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create Group' });
  await dialog.getByLabel('Name').fill('shop');
  await dialog.getByLabel('Subdomain').fill('not.a.label');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByLabel('Subdomain')).toHaveAccessibleDescription(/one DNS label/);
  await expect(dialog.getByLabel('Name')).toHaveValue('shop');
  await dialog.getByLabel('Subdomain').fill('shop');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'shop' })).toBeVisible();
});

test('an API with a path parameter, a query parameter and a mapping is created', async ({ page }) => {
  await createGroupAndOpen(page, 'petstore');
  await page.getByRole('link', { name: 'Create API' }).click();
  await expect(page.getByRole('heading', { name: 'Create API' })).toBeVisible();
  await hydrated(page);

  await page.getByLabel('Name', { exact: true }).fill('Get pet');
  await page.getByLabel('Method', { exact: true }).selectOption('GET');
  await page.getByLabel('Path', { exact: true }).fill('/pets/{petId}');
  await page.getByLabel('Mode').selectOption('mapping');
  await page.getByRole('button', { name: 'Add parameter' }).click();
  await page.getByLabel('Parameter 1 name').fill('petId');
  await page.getByLabel('Parameter 1 location').selectOption('path');
  await page.getByLabel('Parameter 1 type').selectOption('int');
  await page.getByRole('button', { name: 'Add parameter' }).click();
  await page.getByLabel('Parameter 2 name').fill('verbose');
  await page.getByLabel('Parameter 2 location').selectOption('query');
  await page.getByLabel('Parameter 2 type').selectOption('boolean');
  await page.getByLabel('Backend path').fill('/v2/pet/{id}');
  await page.getByRole('button', { name: 'Add mapping' }).click();
  await page.getByLabel('Mapping 1 parameter').fill('petId');
  await page.getByLabel('Mapping 1 backend name').fill('id');
  await page.getByLabel('Mapping 1 backend location').selectOption('path');
  await page.getByRole('button', { name: 'Save' }).click();

  const row = page.getByRole('row', { name: /Get pet/ });
  await expect(row).toContainText('/pets/{petId}');
  await expect(row).toContainText('Unified');

  // What was saved comes back in the editor.
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('heading', { name: 'Edit API' })).toBeVisible();
  await expect(page.getByLabel('Backend path')).toHaveValue('/v2/pet/{id}');
  await expect(page.getByLabel('Mapping 1 backend name')).toHaveValue('id');
  await expect(page.getByLabel('Parameter 2 name')).toHaveValue('verbose');
});

test('a bad path shows an error at the Path field and nothing is saved', async ({ page }) => {
  await createGroupAndOpen(page, 'badpaths');
  await page.getByRole('link', { name: 'Create API' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Broken');
  await page.getByLabel('Path', { exact: true }).fill('pets/{id');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByLabel('Path', { exact: true })).toHaveAccessibleDescription(/must start with \//);
  await expect(page.getByLabel('Path', { exact: true })).toHaveValue('pets/{id');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Broken');

  await page.getByRole('link', { name: 'Cancel' }).click();
  await expect(page.getByText('No APIs yet: Create API defines one')).toBeVisible();
});

test('Advanced Configuration switches an API to Mock, and offers Function with a code field', async ({ page }) => {
  await createGroupAndOpen(page, 'mocks');
  await page.getByRole('link', { name: 'Create API' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Hello');
  await page.getByLabel('Path', { exact: true }).fill('/hello');
  await page.getByRole('button', { name: 'Save' }).click();
  const row = page.getByRole('row', { name: /Hello/ });
  await expect(row).toContainText('Unified');

  await row.getByRole('button', { name: 'Advanced Configuration' }).click();
  const dialog = page.getByRole('dialog', { name: 'Advanced Configuration' });
  const unified = dialog.getByLabel('Unified configuration at the time of releasing groups');
  await expect(unified).toBeChecked();
  await unified.uncheck();
  await dialog.getByLabel('Function').check();
  await expect(dialog.getByLabel('Function code')).toBeVisible();
  await dialog.getByLabel('Mock', { exact: true }).check();
  await dialog.getByLabel('Mock response body').fill('{"hello":"world"}');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row.getByRole('cell', { name: 'Mock', exact: true })).toBeVisible();

  // The saved body is there when the dialog opens again.
  await row.getByRole('button', { name: 'Advanced Configuration' }).click();
  await expect(dialog.getByLabel('Mock response body')).toHaveValue('{"hello":"world"}');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test('Advanced Configuration from a new API: uncheck Unified, type as a person does, and Save', async ({ page }) => {
  // Every new API starts unified; the release bundle used to panic at the first uncheck
  // (a disposed signal), after which Save did nothing.
  await createGroupAndOpen(page, 'typing');
  const created = await page.request.post('/api/admin/v1/groups/typing/apis', {
    data: { name: 'Typed', request: { method: 'GET', path: '/typed' } },
  });
  expect(created.status()).toBe(201);
  await page.reload();
  await hydrated(page);
  const row = page.getByRole('row', { name: /Typed/ });
  await expect(row).toContainText('Unified');

  await row.getByRole('button', { name: 'Advanced Configuration' }).click();
  const dialog = page.getByRole('dialog', { name: 'Advanced Configuration' });
  await dialog.getByLabel('Unified configuration at the time of releasing groups').uncheck();
  // HTTP is the default type: type an address key by key; the field keeps its focus.
  const address = dialog.getByLabel('Backend address');
  await address.click();
  await address.pressSequentially('http://127.0.0.1:9');
  await expect(address).toBeFocused();
  await expect(address).toHaveValue('http://127.0.0.1:9');
  await expect(dialog.getByLabel('Backend service')).toHaveValue('');
  // Switch to Mock and back and forth, typing in between.
  await dialog.getByLabel('Mock', { exact: true }).check();
  const body = dialog.getByLabel('Mock response body');
  await body.click();
  await body.pressSequentially('{"typed":true}');
  await expect(body).toBeFocused();
  await dialog.getByLabel('Function').check();
  await dialog.getByLabel('Mock', { exact: true }).check();
  await expect(body).toHaveValue('{"typed":true}');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row.getByRole('cell', { name: 'Mock', exact: true })).toBeVisible();

  const saved = await page.request.get('/api/admin/v1/groups/typing/apis');
  const api = (await saved.json()).items.find((a: { name: string }) => a.name === 'Typed');
  expect(api.backend.unified).toBe(false);
  expect(api.backend.type).toBe('mock');
  expect(api.backend.mock.body).toBe('{"typed":true}');

  // Back to unified: checked again and saved, the API follows the group's release.
  await row.getByRole('button', { name: 'Advanced Configuration' }).click();
  await dialog.getByLabel('Unified configuration at the time of releasing groups').check();
  await expect(dialog.getByLabel('Mock response body')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toContainText('Unified');
});

test('search, delete with confirmation, and deleting the group', async ({ page }) => {
  await createGroupAndOpen(page, 'cleanup');
  for (const [name, path] of [['List pets', '/pets'], ['List stores', '/stores']]) {
    await page.getByRole('link', { name: 'Create API' }).click();
    await hydrated(page);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Path', { exact: true }).fill(path);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('row', { name: new RegExp(name) })).toBeVisible();
  }
  await page.getByLabel('Search').fill('store');
  await expect(page.getByRole('row', { name: /List stores/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /List pets/ })).toHaveCount(0);
  await page.getByLabel('Search').fill('');

  await page.getByRole('row', { name: /List pets/ }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete API' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('row', { name: /List pets/ })).toHaveCount(0);
  await expect(page.getByRole('row', { name: /List stores/ })).toBeVisible();

  await page.getByRole('link', { name: 'API Groups' }).first().click();
  await hydrated(page);
  await page.getByLabel('Search').fill('cleanup');
  await page.getByRole('row', { name: /cleanup/ }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete Group' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('link', { name: 'cleanup' })).toHaveCount(0);
});

test('the API List searches, sorts and pages with its state in the URL', async ({ page }) => {
  await createGroupAndOpen(page, 'paged');
  for (let i = 0; i < 25; i++) {
    const api = { name: `api-${String(i).padStart(2, '0')}`, request: { method: i === 7 ? 'POST' : 'GET', path: `/items/${i}` } };
    const response = await page.request.post('/api/admin/v1/groups/paged/apis', { data: api });
    expect(response.status()).toBe(201);
  }
  await page.reload();
  await hydrated(page);
  const pages = page.getByRole('navigation', { name: 'Pages' });
  await expect(pages.getByText('Page 1 of 2 · 25 APIs')).toBeVisible();
  await expect(page.getByRole('row', { name: /api-19/ })).toBeVisible();
  await expect(pages.getByRole('link', { name: 'Previous' })).toHaveCount(0);
  await pages.getByRole('link', { name: 'Next' }).click();
  await expect(pages.getByText('Page 2 of 2 · 25 APIs')).toBeVisible();
  await expect(page).toHaveURL(/\/groups\/paged\?page=2$/);
  await expect(page.getByRole('row', { name: /api-24/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /api-19/ })).toHaveCount(0);
  await expect(pages.getByRole('link', { name: 'Next' })).toHaveCount(0);

  // Sort by name, then Z to A: the header says how, and the URL keeps it.
  const table = page.getByRole('table', { name: 'APIs' });
  await table.getByRole('link', { name: 'Name' }).click();
  await expect(page).toHaveURL(/sort=name$/);
  await table.getByRole('link', { name: 'Name' }).click();
  await expect(page).toHaveURL(/sort=name&dir=desc$/);
  await expect(table.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'descending');
  await expect(table.getByRole('row').nth(1)).toContainText('api-24');
  // Sorted by method, POST comes after every GET: last, on the second page.
  await table.getByRole('link', { name: 'Method' }).click();
  await expect(table.getByRole('row').nth(1)).toContainText('GET');
  await pages.getByRole('link', { name: 'Next' }).click();
  await expect(table.getByRole('row').last()).toContainText('api-07');

  // The back button returns to the name order, Z to A, and a reload keeps what the URL says.
  await page.goBack();
  await page.goBack();
  await expect(page).toHaveURL(/sort=name&dir=desc$/);
  await expect(table.getByRole('row').nth(1)).toContainText('api-24');
  await page.reload();
  await hydrated(page);
  await expect(table.getByRole('row').nth(1)).toContainText('api-24');

  // A search starts at page 1 and is in the URL too.
  await page.getByLabel('Search').fill('api-1');
  await expect(page).toHaveURL(/q=api-1/);
  await expect(pages.getByText('Page 1 of 1 · 10 APIs')).toBeVisible();
  await page.getByLabel('Search').fill('nothing like it');
  await expect(page.getByText('No API matches the search')).toBeVisible();
});

test('a group is edited, and a live group cannot be deleted', async ({ page }) => {
  await createGroupAndOpen(page, 'editme');
  await page.getByRole('link', { name: 'Create API' }).click();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Ping');
  await page.getByLabel('Path', { exact: true }).fill('/ping');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('button', { name: 'Release' }).click();
  const release = page.getByRole('dialog', { name: 'Release' });
  await release.getByLabel('Version label').fill('1');
  await release.getByLabel('Environment').selectOption('prod');
  await release.getByRole('button', { name: 'Release' }).click();
  await expect(release).toHaveCount(0);

  await page.getByRole('link', { name: 'API Groups' }).first().click();
  await hydrated(page);
  await page.getByLabel('Search').fill('editme');
  const row = page.getByRole('row', { name: /editme/ });
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit Group' });
  await expect(edit.getByLabel('Name')).toHaveValue('editme');
  await edit.getByLabel('Description').fill('Edited in the browser');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(row).toContainText('Edited in the browser');

  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete Group' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('alert')).toContainText('live in Production');
  await expect(page.getByRole('link', { name: 'editme' })).toBeVisible();
});
