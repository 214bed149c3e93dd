// API Tokens, under the user menu: a token is created (shown once), works against the REST
// API, is listed without its secret, and stops working once revoked.
import { expect, test } from './fixtures';
import { hydrated, logIn } from './helpers';

test('a token is created, used, listed and revoked', async ({ page, request }) => {
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
  await page.getByRole('link', { name: 'API Tokens' }).click();
  await expect(page.getByRole('heading', { name: 'API Tokens' })).toBeVisible();
  await hydrated(page);

  await page.getByRole('button', { name: 'Create Token' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create Token' });
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog.getByText('must be 1 to 100 characters')).toBeVisible();
  await dialog.getByLabel('Name').fill('deploy bot');
  await dialog.getByLabel('Expires').selectOption('30');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toHaveCount(0);
  const shown = page.getByTestId('new-token');
  await expect(shown).toHaveText(/^gty_[0-9a-f]{64}$/);
  const token = (await shown.textContent()) ?? '';

  const groups = () => request.get('/api/admin/v1/groups', { headers: { authorization: `Bearer ${token}` } });
  expect((await groups()).status()).toBe(200);

  const tokens = page.getByRole('table', { name: 'Tokens' });
  const row = tokens.getByRole('row', { name: /deploy bot/ });
  await expect(row).toContainText('admin');
  await expect(tokens).not.toContainText('gty_');

  // Revoke asks first, saying what it breaks; Cancel keeps the token working.
  await row.getByRole('button', { name: 'Revoke' }).click();
  let confirm = page.getByRole('dialog', { name: 'Revoke Token' });
  await expect(confirm).toContainText('gets 401 from its next request');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  expect((await groups()).status()).toBe(200);
  await row.getByRole('button', { name: 'Revoke' }).click();
  confirm = page.getByRole('dialog', { name: 'Revoke Token' });
  await confirm.getByRole('button', { name: 'Revoke' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(tokens.getByRole('row', { name: /deploy bot/ })).toHaveCount(0);
  expect((await groups()).status()).toBe(401);
});
