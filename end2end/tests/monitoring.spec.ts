// Monitoring: traffic sent through the real gateway shows on the group's Monitoring tab and
// on the API's, as server-drawn SVG charts with the release as a marker; the charts read the
// same with JavaScript off; Deployment Management shows a sparkline per environment and
// Backend Services the health of each backend. Screenshots of both chart pages are saved.
import { expect, test } from './fixtures';
import { CONSOLE_PORT, GATEWAY_PORT } from '../playwright.config';
import { createGroup, hydrated, logIn } from './helpers';

test('traffic shows on the charts with the release marker, sparklines and backend health', async ({
  page,
  request,
  browser,
}) => {
  await logIn(page);
  await createGroup(page, 'mongroup');
  const admin = '/api/admin/v1';
  const made = await page.request.post(`${admin}/groups/mongroup/apis`, {
    data: { name: 'Login page', request: { method: 'GET', path: '/login' } },
  });
  expect(made.status()).toBe(201);
  expect((await page.request.post(`${admin}/groups/mongroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  // A real HTTP backend: the console's own login page. Pre-release points at a dead port.
  expect((await page.request.put(`${admin}/groups/mongroup/deployments/test`, {
    data: { version: '1', backend: { type: 'http', address: `http://127.0.0.1:${CONSOLE_PORT}` } },
  })).status()).toBe(200);
  expect((await page.request.put(`${admin}/groups/mongroup/deployments/pre`, {
    data: { version: '1', backend: { type: 'http', address: 'http://127.0.0.1:9' } },
  })).status()).toBe(200);

  const call = (stage: string, path: string) =>
    request.get(`http://127.0.0.1:${GATEWAY_PORT}${path}`, { headers: { Host: 'mongroup.localhost', 'X-Ca-Stage': stage } });
  for (let i = 0; i < 12; i++) expect((await call('TEST', '/login')).status()).toBe(200);
  for (let i = 0; i < 3; i++) expect((await call('TEST', '/nowhere')).status()).toBe(404);
  for (let i = 0; i < 2; i++) expect((await call('PRE', '/login')).status()).toBe(502);

  // The group's Monitoring tab (the gateway writes its minute every half second here).
  await page.goto('/groups/mongroup');
  await hydrated(page);
  await page.getByRole('navigation', { name: 'Group' }).getByRole('link', { name: 'Monitoring' }).click();
  await expect(page.getByRole('heading', { name: 'Monitoring' })).toBeVisible();
  const requests = page.getByRole('figure', { name: 'Requests' });
  const top = page.getByRole('table', { name: 'Top APIs by traffic' });
  const login = top.getByRole('row', { name: /Login page/ }).getByRole('cell');
  // Until every call is written: the page is drawn once, so a load between two flushes
  // would show part of them.
  await expect(async () => {
    await page.reload();
    await expect(requests).toHaveAttribute('data-points', /^[1-9]/, { timeout: 1000 });
    await expect(login.nth(1)).toHaveText('14', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  // The blue line is the Requests series (the grey ones are the axes).
  const series = 'svg polyline[stroke="#1F6FEB"]';
  await expect(requests.locator(series).first()).toBeVisible();
  await expect(page.getByRole('figure', { name: 'Error rate' })).toBeVisible();
  // All environments: 12 answered in Test and 2 failed in Pre-release (502).
  await expect(login.nth(1)).toHaveText('14');
  await expect(login.nth(3)).toHaveText('2');
  await expect(top).toContainText('(no API matched)');
  // One version answered: its row, and no per-version chart (a line per version needs two).
  const byVersion = page.getByRole('table', { name: 'Traffic by version' });
  await expect(byVersion.getByRole('row', { name: /^1 / })).toBeVisible();
  await expect(page.getByRole('figure', { name: 'Requests by version' })).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath('group-overview.png'), fullPage: true });

  // The API's charts: the series and the release marker ("1 release").
  await hydrated(page);
  await top.getByRole('link', { name: 'Login page' }).click();
  await expect(page.getByRole('heading', { name: 'Monitoring: Login page' })).toBeVisible();
  const apiRequests = page.getByRole('figure', { name: 'Requests' });
  await expect(apiRequests).toHaveAttribute('data-points', /^[1-9]/);
  await expect(apiRequests.locator(series).first()).toBeVisible();
  await expect(apiRequests.locator('svg text', { hasText: '1 release' }).first()).toBeAttached();
  await expect(page.getByRole('figure', { name: 'Latency' }).locator('svg polyline[stroke="#CF222E"], svg circle[fill="#CF222E"]').first()).toBeAttached();
  await page.screenshot({ path: test.info().outputPath('api-charts.png'), fullPage: true });

  // The pickers: Test only, the last 24 hours.
  await hydrated(page);
  await page.getByLabel('Time range').selectOption({ label: 'Last 24 hours' });
  await page.getByLabel('Environment').selectOption({ label: 'Test' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/range=24h/);
  await expect(page).toHaveURL(/env=test/);
  await expect(page.getByRole('figure', { name: 'Requests' })).toContainText('per 15 minutes');
  await expect(page.getByRole('figure', { name: 'Requests' }).locator(series).first()).toBeVisible();

  // With JavaScript off, the server's HTML already holds the charts.
  const plain = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const noScript = await plain.newPage();
  await noScript.goto(page.url());
  await expect(noScript.getByRole('figure', { name: 'Latency' }).locator('svg')).toBeVisible();
  await expect(noScript.getByRole('figure', { name: 'Requests' })).toHaveAttribute('data-points', /^[1-9]/);
  await plain.close();

  // Deployment Management: a sparkline per environment.
  await page.getByRole('navigation', { name: 'Group' }).getByRole('link', { name: 'Deployment Management' }).click();
  const sparklines = page.getByRole('list', { name: 'Traffic per environment' });
  await expect(sparklines.locator('li[data-env="test"] svg')).toBeVisible();
  await expect(sparklines.locator('li[data-env="test"]')).toContainText(/1[5-9] requests|[2-9]\d requests/);

  // Backend Services: the dead backend failed every call, the console answered every one.
  await page.getByRole('link', { name: 'Backend Services' }).click();
  const health = page.getByRole('table', { name: 'Backend health' });
  await expect(health.getByRole('row', { name: /127\.0\.0\.1:9\b/ })).toContainText('100.0 %');
  await expect(health.getByRole('row', { name: new RegExp(`127\\.0\\.0\\.1:${CONSOLE_PORT}`) })).toContainText('0.0 %');
});
