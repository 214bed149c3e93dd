// Cross-site request forgery: a page on another port of the same host (the same "site" as
// the console, so the SameSite=Strict session cookie does go along) submits a form to a
// console server function. The console refuses it; its own pages keep working.
import * as http from 'http';
import type { AddressInfo } from 'net';
import { expect, test } from './fixtures';
import { createGroup, hydrated, logIn } from './helpers';

/** A page that posts `name=<victim>` to `action` as soon as it loads, served on its own port. */
async function evilSite(action: string, victim: string): Promise<{ url: string; close: () => void }> {
  const page = `<!DOCTYPE html><html><body>
    <form id="f" method="post" action="${action}"><input name="name" value="${victim}"></form>
    <script>document.getElementById('f').submit();</script></body></html>`;
  const server = http.createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

test('a page on another port cannot drive the console with its session', async ({ page }) => {
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
  await createGroup(page, 'victim');
  await createGroup(page, 'throwaway');

  // The console itself deletes a group; the request it sends is the one to forge.
  const row = page.getByRole('row', { name: /throwaway/ });
  await row.getByRole('button', { name: 'Delete' }).click();
  const deleting = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/api/delete_group'));
  await page.getByRole('dialog', { name: 'Delete Group' }).getByRole('button', { name: 'Delete' }).click();
  const action = (await deleting).url();
  await expect(page.getByRole('link', { name: 'throwaway', exact: true })).toHaveCount(0);

  // The forged post, from another origin of the same site, carries the cookie and is refused.
  const evil = await evilSite(action, 'victim');
  try {
    const answer = page.waitForResponse((r) => r.url() === action);
    await page.goto(evil.url);
    expect((await answer).status()).toBe(403);
  } finally {
    evil.close();
  }

  // Nothing was deleted, and the console still works.
  await page.goto('/groups?q=victim');
  await hydrated(page);
  await expect(page.getByRole('link', { name: 'victim', exact: true })).toBeVisible();
  await createGroup(page, 'after');
});
