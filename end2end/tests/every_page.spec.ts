// Every console page, as a person opens it at a desk (1280 px) and on a phone (375 px): axe-core
// finds no serious or critical accessibility violation, list pages do not scroll sideways on
// the phone, and a screenshot of each is saved as a test artefact
// (test-results/…/<page>-<width>.png).
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures';
import { hydrated, logIn } from './helpers';
import type { Page } from './fixtures';

const admin = '/api/admin/v1';

async function post(page: Page, path: string, data: object) {
  const response = await page.request.post(`${admin}${path}`, { data });
  expect(response.status(), `${path}: ${await response.text()}`).toBeLessThan(300);
  return response.json();
}

/** What axe-core calls serious or critical on the page, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

test('every page passes axe-core, fits a phone, and is photographed at both widths', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  await logIn(page);
  // Something on every page: a group with an API released to Test, an app, a service, a policy.
  await post(page, '/groups', { name: 'tour', subdomain: 'tour', description: 'every page' });
  const api = await post(page, '/groups/tour/apis', {
    name: 'Tour pets', description: 'lists pets', request: { method: 'GET', path: '/pets' },
  });
  await post(page, '/groups/tour/versions', { label: '1.0.0' });
  const live = await page.request.put(`${admin}/groups/tour/deployments/test`, { data: { version: '1.0.0', backend: { type: 'mock' } } });
  expect(live.status()).toBe(200);
  await post(page, '/apps', { name: 'tourapp' });
  await post(page, '/backend-services', { name: 'toursvc', type: 'http' });
  await post(page, '/policies', { name: 'tourlimit', type: 'throttling', config: { unit: 'second', api_limit: 100 } });
  await post(page, '/tokens', { name: 'tour token' });

  // [name, path, is a list page]
  const pages: [string, string, boolean][] = [
    ['groups', '/groups', true],
    ['api-list', '/groups/tour', true],
    ['versions', '/groups/tour/versions', true],
    ['deployments', '/groups/tour/deployments', true],
    ['docs', '/groups/tour/docs', false],
    ['group-monitoring', '/groups/tour/monitoring', false],
    ['api-editor', `/groups/tour/apis/${api.id}`, false],
    ['api-new', '/groups/tour/apis/new', false],
    ['api-policies', `/groups/tour/apis/${api.id}/policies`, false],
    ['api-monitoring', `/groups/tour/apis/${api.id}/monitoring`, false],
    ['backend-services', '/backend-services', true],
    ['backend-service', '/backend-services/toursvc', false],
    ['apps', '/apps', true],
    ['app', '/apps/tourapp', false],
    ['policies', '/policies', true],
    ['policy', '/policies/tourlimit', false],
    ['debug', '/debug', false],
    ['tokens', '/tokens', true],
    ['nodes', '/nodes', true],
    ['access-log', '/access-log', true],
    ['audit', '/audit', true],
    ['users', '/users', true],
  ];
  const problems: string[] = [];
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    for (const [name, path, list] of pages) {
      await page.goto(path);
      await hydrated(page);
      await expect(page.getByRole('heading').first()).toBeVisible();
      for (const violation of await seriousViolations(page)) {
        problems.push(`${name} at ${width} px: ${violation}`);
      }
      if (width === 375 && list) {
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        if (wide > 375) problems.push(`${name} at 375 px is ${wide} px wide: it scrolls sideways`);
        // Nothing cut off either (a table hides what overflows it): every button, link and
        // field ends inside the screen.
        const cut = await page.evaluate(() =>
          [...document.querySelectorAll('.content button, .content a, .content input, .content select')]
            .filter((e) => {
              const r = e.getBoundingClientRect();
              return r.width > 0 && r.right > window.innerWidth + 1;
            })
            .map((e) => (e.textContent || e.getAttribute('aria-label') || e.id || e.tagName).trim()),
        );
        if (cut.length) problems.push(`${name} at 375 px cuts off: ${cut.join(', ')}`);
      }
      await page.screenshot({ path: testInfo.outputPath(`${name}-${width}.png`), fullPage: true });
    }
  }
  // The login page, signed out.
  await page.context().clearCookies();
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/login');
    await hydrated(page);
    for (const violation of await seriousViolations(page)) problems.push(`login at ${width} px: ${violation}`);
    await page.screenshot({ path: testInfo.outputPath(`login-${width}.png`), fullPage: true });
  }
  expect(problems).toEqual([]);
});
