// SDK & Docs: docs and an SDK downloaded from the tab, and an OpenAPI import with its preview
// whose API, released with Mock, answers the document's example.
import { expect, test } from './fixtures';
import { readFileSync } from 'fs';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const spec = `openapi: 3.0.3
info: {title: Orders, version: "1"}
paths:
  /orders/{orderId}:
    get:
      summary: Get order
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: integer}}
        - {name: session, in: cookie, schema: {type: string}}
      responses:
        "200": {description: ok, content: {application/json: {example: {id: 1}}}}
`;

test('download the docs and an SDK, and import a spec with its preview', async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  const rest = '/api/admin/v1';
  expect((await page.request.post(`${rest}/groups`, { data: { name: 'docgroup', subdomain: 'docgroup' } })).status()).toBe(201);
  const api = { name: 'Hello', request: { method: 'GET', path: '/hello', params: [{ name: 'q', in: 'query', required: true }] } };
  expect((await page.request.post(`${rest}/groups/docgroup/apis`, { data: api })).status()).toBe(201);
  expect((await page.request.post(`${rest}/groups/docgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  const released = await page.request.put(`${rest}/groups/docgroup/deployments/test`, { data: { version: '1', backend: { type: 'mock' } } });
  expect(released.status()).toBe(200);

  await page.goto('/groups/docgroup');
  await hydrated(page);
  await page.getByRole('link', { name: 'SDK & Docs' }).click();
  const test = page.getByRole('region', { name: 'Test' });
  await expect(test.getByRole('heading', { name: 'Test (version 1, 1 APIs)' })).toBeVisible();
  await test.getByRole('button', { name: 'Show Docs' }).click();
  const docs = page.getByRole('article', { name: 'Docs' });
  await expect(docs.getByRole('heading', { name: 'Hello' })).toBeVisible();
  await expect(docs).toContainText('X-Ca-Stage: TEST');
  await expect(docs.getByRole('cell', { name: 'q', exact: true })).toBeVisible();

  let download = page.waitForEvent('download');
  await test.getByRole('link', { name: 'Docs (Markdown)' }).click();
  let file = await download;
  expect(file.suggestedFilename()).toBe('docgroup-test.md');
  expect(readFileSync(await file.path(), 'utf8')).toContain('## Hello');
  download = page.waitForEvent('download');
  await test.getByRole('link', { name: 'Python SDK' }).click();
  file = await download;
  expect(file.suggestedFilename()).toBe('docgroup_test.py');
  const python = readFileSync(await file.path(), 'utf8');
  expect(python).toContain('class Client');
  expect(python).toContain('def hello(self, q: str');

  // Import with a preview first.
  const importer = page.getByRole('region', { name: 'Import OpenAPI' });
  await importer.getByLabel('Upload file').setInputFiles({ name: 'orders.yaml', mimeType: 'application/yaml', buffer: Buffer.from(spec) });
  await expect(importer.getByLabel('OpenAPI document')).toHaveValue(spec);
  await expect(importer.getByRole('button', { name: 'Import', exact: true })).toBeDisabled();
  await importer.getByRole('button', { name: 'Preview' }).click();
  const preview = importer.getByRole('region', { name: 'Preview' });
  await expect(preview).toContainText('1 to add, 0 to overwrite, 0 skipped');
  await expect(preview.getByRole('row', { name: /add Get order GET \/orders\/\{orderId\}/ })).toBeVisible();
  await expect(preview.getByRole('listitem').filter({ hasText: 'cookie parameter `session`' })).toBeVisible();
  await importer.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(importer.getByRole('region', { name: 'Imported' })).toBeVisible();
  await page.getByRole('link', { name: 'API List' }).click();
  await expect(page.getByRole('row', { name: /Get order/ })).toBeVisible();

  // Released with Mock, the imported API answers its document's example.
  expect((await page.request.post(`${rest}/groups/docgroup/versions`, { data: { label: '2' } })).status()).toBe(201);
  const mocked = await page.request.put(`${rest}/groups/docgroup/deployments/test`, { data: { version: '2', backend: { type: 'mock' } } });
  expect(mocked.status()).toBe(200);
  const answer = await page.request.get(`http://127.0.0.1:${GATEWAY_PORT}/orders/5`, {
    headers: { Host: 'docgroup.localhost', 'X-Ca-Stage': 'TEST' },
  });
  expect(answer.status()).toBe(200);
  expect(answer.headers()['content-type']).toBe('application/json');
  expect(await answer.json()).toEqual({ id: 1 });
});
