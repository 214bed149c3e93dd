// Users and roles: an admin creates a viewer and a developer on the Users page; the viewer
// sees no Release, Create API or Users, and is refused the Users page; the developer may
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
