// A Function backend written in Advanced Configuration, released, and called through the gateway.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

test('write a function in Advanced Configuration, release it, call it', async ({ page, request }) => {
  await logIn(page);
  await hydrated(page);
  expect((await page.request.post('/api/admin/v1/groups', { data: { name: 'fngroup', subdomain: 'fngroup' } })).status()).toBe(201);
  const api = { name: 'Greet', request: { method: 'GET', path: '/greet/{name}', params: [{ name: 'name', in: 'path' }] } };
  expect((await page.request.post('/api/admin/v1/groups/fngroup/apis', { data: api })).status()).toBe(201);
  await page.goto('/groups/fngroup');
  await hydrated(page);

  const row = page.getByRole('row', { name: /Greet/ });
  await row.getByRole('button', { name: 'Advanced Configuration' }).click();
  const dialog = page.getByRole('dialog', { name: 'Advanced Configuration' });
  await dialog.getByLabel('Unified configuration at the time of releasing groups').uncheck();
  await dialog.getByLabel('Function').check();
  const code = dialog.getByLabel('Function code');
  // A syntax error is refused at save with its line and column.
  await code.fill('export default function handler(req) {\n  return {status: };\n}');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(code).toHaveAccessibleDescription(/^line 2, column \d+: /);
  // Typed as a person would: the Tab key indents inside the editor.
  await code.fill('');
  await code.pressSequentially('export default function handler(req) {\n');
  await code.press('Tab');
  await code.pressSequentially("return {body: {hello: req.params.name, via: 'function'}};\n}");
  await expect(code).toHaveValue("export default function handler(req) {\n    return {body: {hello: req.params.name, via: 'function'}};\n}");
  await expect(dialog.locator('.gutter')).toContainText('3');
  await dialog.getByLabel('Function timeout (ms)').fill('500');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row.getByRole('cell', { name: 'Function', exact: true })).toBeVisible();

  await page.getByRole('button', { name: 'Release' }).click();
  const release = page.getByRole('dialog', { name: 'Release' });
  await release.getByLabel('Version label').fill('1.0.0');
  await release.getByLabel('Environment').selectOption('test');
  await release.getByRole('button', { name: 'Release' }).click();
  await expect(release).toHaveCount(0);

  const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/greet/ada`, {
    headers: { Host: 'fngroup.localhost', 'X-Ca-Stage': 'TEST' },
  });
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ hello: 'ada', via: 'function' });
});
