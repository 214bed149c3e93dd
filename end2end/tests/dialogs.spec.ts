// Dialogs are modal for the keyboard too: the first field takes the focus, Tab and
// Shift+Tab stay inside, Escape is Cancel (nothing is saved).
import { expect, test } from './fixtures';
import { hydrated, logIn } from './helpers';

test('a dialog takes the focus, keeps Tab inside, and Escape cancels it', async ({ page }) => {
  await logIn(page);
  await page.goto('/backend-services');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Backend Service' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create Backend Service' });
  await expect(dialog.getByLabel('Name')).toBeFocused();
  await dialog.getByLabel('Name').fill('escaped');
  // Shift+Tab from the first field wraps to the dialog's last button.
  await page.keyboard.press('Shift+Tab');
  await expect(dialog.getByRole('button', { name: 'Create' })).toBeFocused();
  // Tab from there wraps back to the first field; however far a keyboard goes, it stays in.
  await page.keyboard.press('Tab');
  await expect(dialog.getByLabel('Name')).toBeFocused();
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  // Escape is Cancel: the dialog closes and nothing was created.
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'escaped' })).toHaveCount(0);
  const listed = await (await page.request.get('/api/admin/v1/backend-services')).json();
  expect(listed.items.map((s: { name: string }) => s.name)).not.toContain('escaped');
});
