// The login flow of the console shell.
import { expect, test } from './fixtures';
import { hydrated, logIn } from './helpers';
import { ADMIN_PASSWORD } from '../playwright.config';

test('a visitor without a session is sent to the login page', async ({ page }) => {
  await page.goto('/groups');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText('Log in to the console')).toBeVisible();
});

test('a wrong password shows an error and stays on the login page', async ({ page }) => {
  await logIn(page, 'not-the-password');
  await expect(page).toHaveURL(/\/login\?error=1&username=admin$/);
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password.');
  // The username stays in the form; only the password is typed again.
  await expect(page.getByLabel('Username')).toHaveValue('admin');
  await expect(page.getByLabel('Password')).toHaveValue('');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
});

test('the right password lands on API Groups, and the console navigates', async ({ page }) => {
  await logIn(page);
  await expect(page).toHaveURL(/\/groups$/);
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
  await expect(page.getByText('admin', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create Group' })).toBeVisible();

  // After hydration the navigation runs in the browser.
  await hydrated(page);
  const main = page.getByRole('navigation', { name: 'Main' });
  await main.getByRole('link', { name: 'Backend Services' }).click();
  await expect(page.getByRole('heading', { name: 'Backend Services' })).toBeVisible();
  await main.getByRole('link', { name: 'API Groups' }).click();
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
});

test('logging out returns to the login page and ends the session', async ({ page }) => {
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'API Groups' })).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/groups');
  await expect(page).toHaveURL(/\/login$/);
});
