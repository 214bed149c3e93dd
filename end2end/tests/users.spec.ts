// Users and roles: an admin creates a viewer and a developer on the Users page; the viewer
// sees no Release, Create API or Users, no Edit, Delete, Save, Add Domain, Set URL, Bind,
// Unbind, Reset Secret or Revoke anywhere, and is refused the Users page; the developer may
// switch Test but not Production; a disabled user is logged out.
import { expect, Page, test } from './fixtures';
import { hydrated, logIn } from './helpers';

const PASSWORD = 'e2e-user-password';
const admin = '/api/admin/v1';

/** The Users table's row of one user (other rows may mention the name in their groups). */
function userRow(page: Page, name: string) {
  const users = page.getByRole('table', { name: 'Users' });
  return users.locator('tr').filter({ has: page.getByRole('cell', { name, exact: true }) });
}

test('an admin creates users with roles, and each role sees only what it may do', async ({ page, newContext }) => {
  await logIn(page);
  // A group live in Test and Production, made over REST (the release flows have their own tests).
  const group = 'rolesgroup';
  expect((await page.request.post(`${admin}/groups`, { data: { name: group, subdomain: group } })).status()).toBe(201);
  const api = { name: 'Hello', request: { method: 'GET', path: '/hello' }, backend: { mock: { body: 'hi' } } };
  expect((await page.request.post(`${admin}/groups/${group}/apis`, { data: api })).status()).toBe(201);
  const released = await page.request.post(`${admin}/groups/${group}/deployments/test/draft`, {
    data: { version: { label: '1.0.4' }, backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);
  const production = await page.request.put(`${admin}/groups/${group}/deployments/prod`, {
    data: { version: '1.0.4', backend: { type: 'mock' } },
  });
  expect(production.status()).toBe(200);
  // Shared things with their own buttons: a domain, an app authorized for Hello, a service
  // with a URL, a policy bound to the group.
  const apis = await (await page.request.get(`${admin}/groups/${group}/apis`)).json();
  const helloId = apis.items[0].id;
  const writes: [string, object][] = [
    [`${admin}/groups/${group}/domains`, { host: 'roles.example.com' }],
    [`${admin}/apps`, { name: 'rolesapp' }],
    [`${admin}/apps/rolesapp/authorizations`, { group, apis: [helloId], env: 'test' }],
    [`${admin}/backend-services`, { name: 'rolessvc', type: 'mock' }],
    [`${admin}/policies`, { name: 'rolespolicy', type: 'throttling', config: { unit: 'minute', api_limit: 100 } }],
    [`${admin}/policies/rolespolicy/bindings`, { group, env: 'test' }],
    [`${admin}/policies`, { name: 'rolesapi', type: 'throttling', config: { unit: 'minute', api_limit: 50 } }],
    [`${admin}/policies/rolesapi/bindings`, { group, api: helloId, env: 'pre' }],
  ];
  for (const [url, data] of writes) {
    const answer = await page.request.post(url, { data });
    expect(answer.status(), `${url}: ${await answer.text()}`).toBeLessThan(300);
  }
  expect((await page.request.put(`${admin}/backend-services/rolessvc/environments/test`, { data: { url: '' } })).status()).toBe(200);

  await page.goto('/groups');
  await hydrated(page);
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await hydrated(page);
  for (const [name, role] of [['val', 'Viewer'], ['devi', 'Developer']]) {
    await page.getByRole('button', { name: 'Create User' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create User' });
    await dialog.getByLabel('Username').fill(name);
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByLabel('Role').selectOption({ label: role });
    await dialog.getByRole('button', { name: 'Create' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByRole('status')).toContainText(`User ${name} created.`);
    await expect(userRow(page, name)).toContainText(role);
  }
  // A bad form names its field.
  await page.getByRole('button', { name: 'Create User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create User' });
  await dialog.getByLabel('Username').fill('val');
  await dialog.getByLabel('Password').fill('short');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog.getByText('must be at least 8 characters')).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // The viewer: no Release, no Create API, no Users; the Users page refuses.
  const viewer = await (await newContext()).newPage();
  await logIn(viewer, PASSWORD, 'val');
  await expect(viewer.getByRole('heading', { name: 'API Groups' })).toBeVisible();
  await expect(viewer.locator('.session')).toContainText('Viewer');
  await expect(viewer.getByRole('button', { name: 'Create Group' })).toHaveCount(0);
  await viewer.goto(`/groups/${group}`);
  await hydrated(viewer);
  await expect(viewer.getByRole('cell', { name: 'Hello', exact: true })).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Release' })).toHaveCount(0);
  await expect(viewer.getByRole('link', { name: 'Create API' })).toHaveCount(0);
  await expect(viewer.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await viewer.getByRole('link', { name: 'Deployment Management' }).click();
  await expect(viewer.getByRole('region', { name: 'Test' })).toContainText('1.0.4');
  await expect(viewer.getByRole('button', { name: 'Switch Version' })).toHaveCount(0);
  await expect(viewer.getByRole('table', { name: 'Custom domains' })).toContainText('roles.example.com');
  await expect(viewer.getByRole('button', { name: 'Add Domain' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Remove' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Upload Certificate' })).toHaveCount(0);
  // The groups list: no Edit or Delete per row.
  await viewer.goto('/groups');
  await hydrated(viewer);
  await viewer.getByLabel('Search').fill(group);
  await expect(viewer.getByRole('link', { name: group })).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  // An API's definition reads, without Save; its policies without Bind Policy or Unbind.
  await viewer.goto(`/groups/${group}/apis/${helloId}`);
  await hydrated(viewer);
  await expect(viewer.getByLabel('Path', { exact: true })).toHaveValue('/hello');
  await expect(viewer.getByRole('button', { name: 'Save' })).toHaveCount(0);
  await viewer.goto(`/groups/${group}/apis/${helloId}/policies`);
  await hydrated(viewer);
  await expect(viewer.getByRole('link', { name: 'rolespolicy' })).toBeVisible();
  await expect(viewer.getByRole('link', { name: 'rolesapi' })).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Bind Policy' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Unbind' })).toHaveCount(0);
  // An app: no Reset Secret, Reset AppCode, Disable or Revoke.
  await viewer.goto('/apps/rolesapp');
  await hydrated(viewer);
  await expect(viewer.getByRole('heading', { name: 'rolesapp' })).toBeVisible();
  await expect(viewer.getByRole('table', { name: 'Authorizations' })).toContainText('Hello');
  for (const name of ['Reset Secret', 'Reset AppCode', 'Disable', 'Revoke', 'Authorize']) {
    await expect(viewer.getByRole('button', { name })).toHaveCount(0);
  }
  // A backend service: no Change URL or Delete URL.
  await viewer.goto('/backend-services/rolessvc');
  await hydrated(viewer);
  await viewer.getByRole('tab', { name: 'Test' }).click();
  await expect(viewer.getByTestId('service-url')).toContainText('Configured (Mock).');
  await expect(viewer.getByRole('button', { name: 'Change URL' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Delete URL' })).toHaveCount(0);
  // A policy: no Edit, Delete, Bind or Unbind.
  await viewer.goto('/policies/rolespolicy');
  await hydrated(viewer);
  await expect(viewer.getByRole('table', { name: 'Bindings' })).toContainText(group);
  for (const name of ['Edit', 'Delete', 'Bind', 'Unbind']) {
    await expect(viewer.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await viewer.goto('/users');
  await expect(viewer.getByRole('alert')).toContainText('only an admin may manage users');

  // The developer: Release and Test's Switch Version, not Production's.
  const developer = await (await newContext()).newPage();
  await logIn(developer, PASSWORD, 'devi');
  await developer.goto(`/groups/${group}`);
  await hydrated(developer);
  await expect(developer.getByRole('button', { name: 'Release' })).toBeVisible();
  await developer.getByRole('link', { name: 'Deployment Management' }).click();
  await expect(developer.getByRole('region', { name: 'Test' }).getByRole('button', { name: 'Switch Version' })).toBeVisible();
  await expect(developer.getByRole('region', { name: 'Production' })).toContainText('1.0.4');
  await expect(developer.getByRole('region', { name: 'Production' }).getByRole('button', { name: 'Switch Version' })).toHaveCount(0);

  // The admin disables the viewer: its next page is the login page.
  await page.getByRole('button', { name: 'Edit val' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit User val' });
  await edit.getByLabel('Status').selectOption({ label: 'Disabled' });
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(userRow(page, 'val')).toContainText('Disabled');
  await viewer.goto('/groups');
  await expect(viewer).toHaveURL(/\/login/);
});
