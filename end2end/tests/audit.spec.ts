// The Audit Log: a change made in the console shows with who made it, from which address, in
// which group and the fields it changed; the filter narrows it; the export links carry the
// filter and download the rows.
import { expect, test } from './fixtures';
import { createGroup, hydrated, logIn } from './helpers';

test('changes show in the Audit Log with their diff, filtered by group and kind, and export', async ({ page }) => {
  await logIn(page);
  await createGroup(page, 'auditgroup');
  const admin = '/api/admin/v1';
  const made = await page.request.post(`${admin}/groups/auditgroup/apis`, {
    data: { name: 'Audited', request: { method: 'GET', path: '/audited' } },
  });
  expect(made.status()).toBe(201);
  const id = (await made.json()).id;
  const edited = await page.request.put(`${admin}/groups/auditgroup/apis/${id}`, {
    data: { name: 'Audited', description: 'now described', request: { method: 'GET', path: '/audited' } },
  });
  expect(edited.status()).toBe(200);

  await page.getByRole('link', { name: 'Audit Log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit Log' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Group').fill('auditgroup');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/group=auditgroup/);
  const rows = page.getByRole('table', { name: 'Changes' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);
  const update = rows.filter({ hasText: 'api.update' });
  await expect(update).toContainText('admin');
  await expect(update).toContainText('127.0.0.1');
  await expect(update).toContainText('description');
  await expect(update).toContainText('now described');

  await hydrated(page);
  await page.getByLabel('Kind of change').selectOption({ label: 'Groups' });
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('group.create');

  const csvLink = page.getByRole('link', { name: 'Export CSV' });
  await expect(csvLink).toHaveAttribute('href', /group=auditgroup.*format=csv/);
  const csv = await page.request.get((await csvLink.getAttribute('href'))!);
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split(/\r?\n/);
  expect(lines[0]).toBe('time,user,address,action,group,target,diff');
  expect(lines.length).toBe(2);
  expect(lines[1]).toContain('group.create');
});
