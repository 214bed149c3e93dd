// An API's Policies tab: what reaches the API (its own bindings and its group's), binding a
// policy to the API from there, and unbinding it, each checked against the real gateway.
import { APIRequestContext, expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { createGroup, hydrated, logIn } from './helpers';

const HOST = 'tabgroup.localhost';

async function status(request: APIRequestContext): Promise<number> {
  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/guarded`, {
    headers: { Host: HOST, 'X-Ca-Stage': 'TEST' },
  });
  return response.status();
}

test("bind a policy from the API's Policies tab: it wins over the group's, and unbinding restores the group's", async ({ page, request }) => {
  await logIn(page);
  await createGroup(page, 'tabgroup');
  const admin = '/api/admin/v1';
  expect((await page.request.post(`${admin}/groups/tabgroup/apis`, {
    data: { name: 'Guarded', request: { method: 'GET', path: '/guarded' } },
  })).status()).toBe(201);
  expect((await page.request.post(`${admin}/groups/tabgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  expect((await page.request.put(`${admin}/groups/tabgroup/deployments/test`, {
    data: { version: '1', backend: { type: 'mock' } },
  })).status()).toBe(200);
  // The group lets every address in; the policy bound to the API will shut this caller out.
  for (const [name, mode] of [['everyone', 'allow'], ['no-local', 'deny']]) {
    const made = await page.request.post(`${admin}/policies`, {
      data: { name, type: 'ip_access', config: { mode, cidrs: mode === 'allow' ? ['0.0.0.0/0', '::/0'] : ['127.0.0.0/8', '::1/128'] } },
    });
    expect(made.status()).toBe(201);
  }
  expect((await page.request.post(`${admin}/policies/everyone/bindings`, {
    data: { group: 'tabgroup', env: 'test' },
  })).status()).toBe(201);
  expect(await status(request)).toBe(200);

  // From the API List to the API's page, then its Policies tab.
  await page.goto('/groups/tabgroup');
  await hydrated(page);
  await page.getByRole('row', { name: /Guarded/ }).getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('heading', { name: 'Edit API' })).toBeVisible();
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Policies' }).click();
  await expect(page.getByRole('heading', { name: 'Policies of Guarded' })).toBeVisible();
  await hydrated(page);
  const table = page.getByRole('table', { name: 'Policies' });
  const groupRow = table.getByRole('row', { name: /everyone/ });
  await expect(groupRow).toContainText('Whole group');
  await expect(groupRow).toContainText('Yes');

  // Bind Policy: nothing chosen is refused at its field; then no-local in Test.
  await page.getByRole('button', { name: 'Bind Policy' }).click();
  const bind = page.getByRole('dialog', { name: 'Bind Policy' });
  await bind.getByRole('button', { name: 'Bind' }).click();
  await expect(bind.getByText('choose a policy', { exact: true })).toBeVisible();
  await bind.getByLabel('Policy').selectOption('no-local');
  await bind.getByLabel('Environment').selectOption('test');
  await bind.getByRole('button', { name: 'Bind' }).click();
  await expect(bind).toHaveCount(0);
  const ownRow = table.getByRole('row', { name: /no-local/ });
  await expect(ownRow).toContainText('This API');
  await expect(ownRow).toContainText('Yes');
  await expect(groupRow).toContainText("No: this API's own wins");
  expect(await status(request)).toBe(403);

  // A second IP access policy for the same API and environment is refused with the reason.
  await page.getByRole('button', { name: 'Bind Policy' }).click();
  await bind.getByLabel('Policy').selectOption('everyone');
  await bind.getByRole('button', { name: 'Bind' }).click();
  await expect(bind.getByRole('alert')).toContainText('unbind it first');
  await bind.getByRole('button', { name: 'Cancel' }).click();
  await expect(bind).toHaveCount(0);

  // Unbind asks first; the group's policy is in force again.
  await ownRow.getByRole('button', { name: 'Unbind' }).click();
  const unbind = page.getByRole('dialog', { name: 'Unbind' });
  await expect(unbind).toContainText('no-local');
  await unbind.getByRole('button', { name: 'Unbind' }).click();
  await expect(ownRow).toHaveCount(0);
  await expect(groupRow).toContainText('Yes');
  expect(await status(request)).toBe(200);

  // The Definition tab leads back to the editor.
  await page.getByRole('navigation', { name: 'API' }).getByRole('link', { name: 'Definition' }).click();
  await expect(page.getByRole('heading', { name: 'Edit API' })).toBeVisible();
});
