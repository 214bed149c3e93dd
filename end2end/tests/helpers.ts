import { expect, Page } from '@playwright/test';
import { ADMIN_PASSWORD } from '../playwright.config';

/** Waits until the server-rendered page has hydrated and reacts to clicks. */
export async function hydrated(page: Page) {
  await expect(page.locator('#gantry')).toHaveAttribute('data-hydrated', 'true');
}

/** Logs in through the login form, as a person would. */
export async function logIn(page: Page, password = ADMIN_PASSWORD, username = 'admin') {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Creates a group through the Create Group dialog on API Groups; it shows in the list. */
export async function createGroup(page: Page, name: string) {
  await page.goto('/groups');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Group' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create Group' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Subdomain').fill(name);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  // The list pages at 20 groups: search for it, as a person would among many.
  await page.getByLabel('Search').fill(name);
  await expect(page.getByRole('link', { name, exact: true })).toBeVisible();
}
