// The one `test` every spec imports: it fails a test on any uncaught page error or Rust
// panic in the console (a panic in the browser bundle shows as `panicked at …` on the
// console and then as a `RuntimeError: unreachable` page error, after which the page is
// dead). playwright.config.ts refuses a spec that imports `test` from anywhere else.
import { test as base, expect, BrowserContext } from '@playwright/test';

export { expect };
export type { APIRequestContext, Page } from '@playwright/test';

/** Collects what went wrong in every page of a browser context. */
export function watchForErrors(context: BrowserContext, problems: string[]) {
  // Every page the context opens, the test's own `page` included.
  context.on('page', (page) =>
    page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`)),
  );
  context.on('console', (message) => {
    const text = message.text();
    if (text.includes('panicked at') || (message.type() === 'error' && /RuntimeError|unreachable/.test(text))) {
      problems.push(`console ${message.type()}: ${text}`);
    }
  });
}

type Fixtures = {
  /** Page errors and panics seen so far, in every context the test opened with `newContext`. */
  pageProblems: string[];
  /** Opens another browser context (another user) watched the same way. */
  newContext: () => Promise<BrowserContext>;
};

export const test = base.extend<Fixtures>({
  // Automatic: after every test, also one that passed, a page error fails it.
  pageProblems: [
    async ({}, use) => {
      const problems: string[] = [];
      await use(problems);
      expect(problems, 'uncaught page errors or Rust panics in the console').toEqual([]);
    },
    { auto: true },
  ],
  context: async ({ context, pageProblems }, use) => {
    watchForErrors(context, pageProblems);
    await use(context);
  },
  newContext: async ({ browser, pageProblems }, use) => {
    const opened: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext();
      watchForErrors(context, pageProblems);
      opened.push(context);
      return context;
    });
    for (const context of opened) await context.close();
  },
});
