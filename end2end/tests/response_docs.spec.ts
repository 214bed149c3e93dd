// Response docs as a person writes them in the API editor: a content type too long is
// refused at its field; the saved content type and examples show in the group's docs on
// the SDK & Docs tab, and in the OpenAPI document downloaded there.
import { expect, test } from './fixtures';
import { readFileSync } from 'fs';
import { hydrated, logIn } from './helpers';

test('write response docs in the editor and read them in the released docs', async ({ page }) => {
  await logIn(page);
  const admin = '/api/admin/v1';
  expect((await page.request.post(`${admin}/groups`, { data: { name: 'respgroup', subdomain: 'respgroup' } })).status()).toBe(201);
  const made = await page.request.post(`${admin}/groups/respgroup/apis`, {
    data: { name: 'Get pet', request: { method: 'GET', path: '/pets/{id}', params: [{ name: 'id', in: 'path', required: true }] } },
  });
  expect(made.status()).toBe(201);
  const id = (await made.json()).id;

  await page.goto(`/groups/respgroup/apis/${id}`);
  await hydrated(page);
  const contentType = page.getByLabel('Content type');
  await contentType.fill('x'.repeat(101));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(contentType).toHaveAccessibleDescription(/at most 100 characters/);
  await contentType.fill('application/json');
  await page.getByLabel('Success example').fill('{"id": 7, "name": "Rex"}');
  await page.getByLabel('Error example').fill('{"code": "PetNotFound"}');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('row', { name: /Get pet/ })).toBeVisible();

  // Saved: the editor shows them again.
  await page.goto(`/groups/respgroup/apis/${id}`);
  await hydrated(page);
  await expect(page.getByLabel('Content type')).toHaveValue('application/json');
  await expect(page.getByLabel('Success example')).toHaveValue('{"id": 7, "name": "Rex"}');

  expect((await page.request.post(`${admin}/groups/respgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  const live = await page.request.put(`${admin}/groups/respgroup/deployments/test`, { data: { version: '1', backend: { type: 'mock' } } });
  expect(live.status()).toBe(200);

  await page.goto('/groups/respgroup');
  await hydrated(page);
  await page.getByRole('link', { name: 'SDK & Docs' }).click();
  const env = page.getByRole('region', { name: 'Test' });
  await env.getByRole('button', { name: 'Show Docs' }).click();
  const docs = page.getByRole('article', { name: 'Docs' });
  await expect(docs.getByRole('heading', { name: 'Get pet' })).toBeVisible();
  await expect(docs).toContainText('Response example (application/json)');
  await expect(docs).toContainText('"name": "Rex"');
  await expect(docs).toContainText('Error example');
  await expect(docs).toContainText('PetNotFound');

  const download = page.waitForEvent('download');
  await env.getByRole('link', { name: 'OpenAPI (JSON)' }).click();
  const openapi = readFileSync(await (await download).path(), 'utf8');
  expect(openapi).toContain('Rex');
  expect(openapi).toContain('PetNotFound');
});
