// A throttling policy made in the console, bound to an API in Test, checked against the real
// gateway; unbound, the API answers again.
import { APIRequestContext, expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { createGroup, hydrated, logIn } from './helpers';

const HOST = 'polgroup.localhost';

async function status(request: APIRequestContext): Promise<number> {
  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/limited`, {
    headers: { Host: HOST, 'X-Ca-Stage': 'TEST' },
  });
  return response.status();
}

test('create a throttling policy, bind it to an API in Test, see 429, unbind it, see 200', async ({ page, request }) => {
  await logIn(page);
  await createGroup(page, 'polgroup');
  // The API and its release go through the REST API of the logged-in session.
  const api = await page.request.post('/api/admin/v1/groups/polgroup/apis', {
    data: { name: 'Limited', request: { method: 'GET', path: '/limited' } },
  });
  expect(api.status()).toBe(201);
  expect((await page.request.post('/api/admin/v1/groups/polgroup/versions', { data: { label: '1' } })).status()).toBe(201);
  const released = await page.request.put('/api/admin/v1/groups/polgroup/deployments/test', {
    data: { version: '1', backend: { type: 'mock' } },
  });
  expect(released.status()).toBe(200);
  expect(await status(request)).toBe(200);

  // Create the policy in the console; a bad limit is refused at its field first.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Policy' }).click();
  const create = page.getByRole('dialog', { name: 'Create Policy' });
  await create.getByLabel('Name').fill('two-a-minute');
  await create.getByLabel('Type').selectOption('throttling');
  await create.getByLabel('Unit').selectOption('minute');
  await create.getByLabel('API limit').fill('0');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create.getByText('must be at least 1')).toBeVisible();
  await create.getByLabel('API limit').fill('2');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'two-a-minute' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('policy-rule')).toHaveText('2 API per minute');

  // Bind it to the API in Test.
  await page.getByRole('button', { name: 'Bind' }).click();
  const bind = page.getByRole('dialog', { name: 'Bind' });
  await bind.getByLabel('Group').selectOption('polgroup');
  await bind.getByLabel('API', { exact: true }).selectOption({ label: 'Limited' });
  await bind.getByLabel('Environment').selectOption('test');
  await bind.getByRole('button', { name: 'Bind' }).click();
  await expect(bind).toHaveCount(0);
  const row = page.getByRole('table', { name: 'Bindings' }).getByRole('row', { name: /polgroup/ });
  await expect(row).toContainText('Limited');
  await expect(row).toContainText('Test');

  expect([await status(request), await status(request), await status(request)]).toEqual([200, 200, 429]);

  // Deployment Management shows it in force.
  await page.goto('/groups/polgroup/deployments');
  await hydrated(page);
  await expect(page.getByRole('table', { name: 'Policies in force' })).toContainText('two-a-minute');

  // Unbind (it asks first): the API answers again.
  await page.goto('/policies/two-a-minute');
  await hydrated(page);
  await page.getByRole('table', { name: 'Bindings' }).getByRole('button', { name: 'Unbind' }).click();
  const unbind = page.getByRole('dialog', { name: 'Unbind' });
  await expect(unbind).toContainText('polgroup');
  await unbind.getByRole('button', { name: 'Unbind' }).click();
  await expect(page.getByText('Bound nowhere')).toBeVisible();
  expect(await status(request)).toBe(200);
});

test('edit a policy, create an IP access policy past a bad range, delete a policy (it asks first)', async ({ page }) => {
  await logIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Policy' }).click();
  let create = page.getByRole('dialog', { name: 'Create Policy' });
  await create.getByLabel('Name').fill('editable');
  await create.getByLabel('API limit').fill('10');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'editable' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('policy-rule')).toHaveText('10 API per second');

  // Edit: the form opens with the saved values; the new limit shows at once.
  await page.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit Policy' });
  await expect(edit.getByLabel('API limit')).toHaveValue('10');
  await edit.getByLabel('Unit').selectOption('hour');
  await edit.getByLabel('API limit').fill('500');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(page.getByTestId('policy-rule')).toHaveText('500 API per hour');

  // An IP access policy: a range that does not parse is named, nothing is saved.
  await page.goto('/policies');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Policy' }).click();
  create = page.getByRole('dialog', { name: 'Create Policy' });
  await create.getByLabel('Name').fill('office');
  await create.getByLabel('Type').selectOption('ip_access');
  await create.getByLabel('Addresses').fill('10.0.0.0/33');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create).toContainText('the prefix length must be 0 to 32');
  await create.getByLabel('Addresses').fill('10.0.0.0/8\n::1/128');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'office' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('policy-rule')).toHaveText('allow 10.0.0.0/8, ::1/128');

  // Delete asks first; Cancel keeps it, Delete removes it from the list.
  await page.getByRole('button', { name: 'Delete' }).click();
  const ask = page.getByRole('dialog', { name: 'Delete Policy' });
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toHaveCount(0);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete Policy' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('heading', { name: 'Policies', exact: true })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Policies' })).not.toContainText('office');
  await expect(page.getByRole('table', { name: 'Policies' })).toContainText('editable');
});
