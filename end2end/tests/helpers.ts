import { expect, Page } from '@playwright/test';
import { ADMIN_PASSWORD } from '../playwright.config';

/** Waits until the server-rendered page has hydrated and reacts to clicks. */
export async function hydrated(page: Page) {
  await expect(page.locator('#gantry')).toHaveAttribute('data-hydrated', 'true');
}

/** Logs in through the login form, as a person would. */
export async function logIn(page: Page, password = ADMIN_PASSWORD) {
  await page.goto('/login');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}
