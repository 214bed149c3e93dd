// Publish one API (Alibaba's per-API release) from its API List row and from its page: the
// gateway serves that API's draft at once, the group's other APIs stay as they were live, and
// the Version Modification List records a version labelled after the live one.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';

const admin = '/api/admin/v1';

test('Publish releases one API beside what is live, from the row and from the API page', async ({ page, request }) => {
  await logIn(page);
  const put = async (path: string, data: object) => expect((await page.request.put(`${admin}${path}`, { data })).status()).toBe(200);
  const mock = (name: string, path: string, body: string) => ({
    name, request: { method: 'GET', path }, backend: { unified: false, type: 'mock', mock: { status: 200, body } },
  });
  expect((await page.request.post(`${admin}/groups`, { data: { name: 'onebyone', subdomain: 'onebyone' } })).status()).toBe(201);
  const hello = await (await page.request.post(`${admin}/groups/onebyone/apis`, { data: { ...mock('Hello', '/hello', 'hello v1'), description: 'says hello' } })).json();
  const other = await (await page.request.post(`${admin}/groups/onebyone/apis`, { data: mock('Other', '/other', 'other v1') })).json();
  expect((await page.request.post(`${admin}/groups/onebyone/versions`, { data: { label: '1' } })).status()).toBe(201);
  await put('/groups/onebyone/deployments/test', { version: '1', backend: { type: 'mock' } });
  await put(`/groups/onebyone/apis/${hello.id}`, { ...mock('Hello', '/hello', 'hello v2'), description: 'says hello' });
  await put(`/groups/onebyone/apis/${other.id}`, mock('Other', '/other', 'other v2'));
  const call = async (path: string) => {
    const response = await request.get(`http://127.0.0.1:${GATEWAY_PORT}${path}`, { headers: { Host: 'onebyone.localhost', 'X-Ca-Stage': 'TEST' } });
    return [response.status(), await response.text()];
  };

  // From the row: a taken label is refused beside its field; the automatic one is used.
  await page.goto('/groups/onebyone');
  await hydrated(page);
  // The API List shows each API's description under its name.
  await expect(page.getByRole('row', { name: /Hello/ })).toContainText('says hello');
  await page.getByRole('row', { name: /Hello/ }).getByRole('button', { name: 'Publish Hello' }).click();
  let dialog = page.getByRole('dialog', { name: 'Publish Hello' });
  await dialog.getByLabel('Environment').selectOption('test');
  await dialog.getByLabel('Version label (optional)').fill('1');
  await dialog.getByRole('button', { name: 'Publish' }).click();
  await expect(dialog.getByLabel('Version label (optional)')).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog).toContainText('already exists');
  await dialog.getByLabel('Version label (optional)').fill('');
  await dialog.getByRole('button', { name: 'Publish' }).click();
  await expect(dialog.getByRole('status')).toHaveText(`Version 1-api${hello.id} is live in Test.`);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);
  expect(await call('/hello')).toEqual([200, 'hello v2']);
  expect(await call('/other')).toEqual([200, 'other v1']);

  // From the API page: Other, into Pre-release where nothing is live, needs a backend.
  await page.goto(`/groups/onebyone/apis/${other.id}`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Publish' }).click();
  dialog = page.getByRole('dialog', { name: 'Publish Other' });
  await dialog.getByLabel('Environment').selectOption('pre');
  await dialog.getByRole('button', { name: 'Publish' }).click();
  await expect(dialog).toContainText('nothing is live in Pre-release');
  await dialog.getByLabel('Backend', { exact: true }).selectOption('mock');
  await dialog.getByRole('button', { name: 'Publish' }).click();
  await expect(dialog.getByRole('status')).toHaveText(`Version api${other.id} is live in Pre-release.`);
  await dialog.getByRole('button', { name: 'Close' }).click();
  const pre = await request.get(`http://127.0.0.1:${GATEWAY_PORT}/other`, { headers: { Host: 'onebyone.localhost', 'X-Ca-Stage': 'PRE' } });
  expect([pre.status(), await pre.text()]).toEqual([200, 'other v2']);

  // The Version Modification List: both versions, each with the one API it changed.
  await page.goto('/groups/onebyone/versions');
  await hydrated(page);
  const versions = page.getByRole('table', { name: 'Versions' });
  await expect(versions.getByRole('row', { name: new RegExp(`^1-api${hello.id} 1 with API \`Hello\` from the draft`) })).toContainText('Test');
  await expect(versions.getByRole('row', { name: new RegExp(`^api${other.id} `) })).toContainText('Pre-release');
});
