// Guarded Production releases: a developer asks with Request Release in Deployment
// Management, an admin in another browser approves it there, and the gateway serves the
// version in Production; the Audit Log shows the request, the approval and the release.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const group = 'approvalgroup';
const admin = '/api/admin/v1';

test('a developer requests a Production release and another admin approves it', async ({ page, newContext, request }) => {
  await logIn(page);
  expect((await page.request.post(`${admin}/groups`, { data: { name: group, subdomain: group } })).status()).toBe(201);
  const api = { name: 'Hello', request: { method: 'GET', path: '/hello' }, backend: { mock: { body: 'approved body' } } };
  expect((await page.request.post(`${admin}/groups/${group}/apis`, { data: api })).status()).toBe(201);
  expect((await page.request.post(`${admin}/groups/${group}/versions`, { data: { label: '2.0.0' } })).status()).toBe(201);
  const dev = await page.request.post(`${admin}/users`, {
    data: { username: 'requester', password: 'e2e-user-password', role: 'developer', groups: [group] },
  });
  expect(dev.status()).toBe(201);

  // The developer: no Switch Version in Production, a Request Release instead.
  const developer = await (await newContext()).newPage();
  await logIn(developer, 'e2e-user-password', 'requester');
  await developer.goto(`/groups/${group}/deployments`);
  await hydrated(developer);
  const production = developer.getByRole('region', { name: 'Production' });
  await expect(production).toContainText('Not released.');
  await production.getByRole('button', { name: 'Request Release' }).click();
  const dialog = developer.getByRole('dialog', { name: 'Request Release' });
  await dialog.getByLabel('Version').selectOption('2.0.0');
  await dialog.getByLabel('Note').fill('launch');
  await dialog.getByRole('button', { name: 'Request' }).click();
  await expect(dialog).toHaveCount(0);
  const requests = developer.getByRole('table', { name: 'Release requests' });
  await expect(requests.locator('tbody tr')).toHaveCount(1);
  await expect(requests.locator('tbody tr').first()).toContainText('Pending');
  await expect(requests.getByRole('button', { name: /^Approve/ })).toHaveCount(0);
  const served = async () => {
    const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/hello`, {
      headers: { Host: `${group}.localhost`, 'X-Ca-Stage': 'RELEASE' },
    });
    return [response.status(), await response.text()];
  };
  expect((await served())[0]).toBe(404);

  // The admin, in its own browser: approves; Production serves the version.
  await page.goto(`/groups/${group}/deployments`);
  await hydrated(page);
  const row = page.getByRole('table', { name: 'Release requests' }).locator('tbody tr').first();
  await expect(row).toContainText('Release 2.0.0 (Mock)');
  await expect(row).toContainText('requester');
  await row.getByRole('button', { name: 'Approve Release 2.0.0 (Mock)' }).click();
  await expect(row).toContainText('Approved by admin');
  await expect(page.getByRole('region', { name: 'Production' }).locator('.live-version')).toHaveText('2.0.0');
  expect(await served()).toEqual([200, 'approved body']);

  // A second request: the developer withdraws one, the admin rejects the other; Production
  // keeps 2.0.0.
  expect((await page.request.post(`${admin}/groups/${group}/versions`, { data: { label: '2.1.0' } })).status()).toBe(201);
  for (const note of ['withdrawn one', 'rejected one']) {
    await developer.goto(`/groups/${group}/deployments`);
    await hydrated(developer);
    await developer.getByRole('region', { name: 'Production' }).getByRole('button', { name: 'Request Release' }).click();
    const again = developer.getByRole('dialog', { name: 'Request Release' });
    await again.getByLabel('Version').selectOption('2.1.0');
    await again.getByLabel('Note').fill(note);
    await again.getByRole('button', { name: 'Request' }).click();
    await expect(again).toHaveCount(0);
  }
  const withdrawn = developer.getByRole('table', { name: 'Release requests' }).locator('tr', { hasText: 'withdrawn one' });
  await expect(withdrawn).toContainText('2.0.0: ');
  await withdrawn.getByRole('button', { name: 'Withdraw' }).click();
  await expect(withdrawn).toContainText('Withdrawn by requester');
  await page.goto(`/groups/${group}/deployments`);
  await hydrated(page);
  const rejected = page.getByRole('table', { name: 'Release requests' }).locator('tr', { hasText: 'rejected one' });
  await rejected.getByRole('button', { name: 'Reject Release 2.1.0 (Mock)' }).click();
  await expect(rejected).toContainText('Rejected by admin');
  await expect(page.getByRole('region', { name: 'Production' }).locator('.live-version')).toHaveText('2.0.0');
  expect(await served()).toEqual([200, 'approved body']);

  // The Audit Log has the request, the approval and the release, with the diff.
  await page.getByRole('link', { name: 'Audit Log' }).click();
  await hydrated(page);
  await page.getByLabel('Group').fill(group);
  await page.getByRole('button', { name: 'Search' }).click();
  const changes = page.getByRole('table', { name: 'Changes' });
  await expect(changes.locator('tr', { hasText: 'release_request.create' })).toHaveCount(3);
  await expect(changes.locator('tr', { hasText: 'release_request.create' }).first()).toContainText('requester');
  await expect(changes.locator('tr', { hasText: 'release_request.approve' })).toContainText('admin');
  await expect(changes.locator('tr', { hasText: 'release_request.reject' })).toContainText('admin');
  await expect(changes.locator('tr', { hasText: 'deployment.release' })).toContainText('2.0.0');
});
