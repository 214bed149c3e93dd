// An API opted in to retries of any method in the editor: released to two real targets, one
// answering 503, every POST through the gateway reaches the healthy one with its body; an
// API that did not opt in passes the 503 on.
import { expect, test } from './fixtures';
import { GATEWAY_PORT } from '../playwright.config';
import { hydrated, logIn } from './helpers';
import { echoBackend, statusBackend } from './backends';

test('opt an API in to retrying POSTs on another target from the editor', async ({ page, request }) => {
  const [sick, sickUrl] = await statusBackend(503);
  const [sick2, sick2Url] = await statusBackend(503);
  const [echo, echoUrl] = await echoBackend();
  try {
    await logIn(page);
    const admin = '/api/admin/v1';
    expect((await page.request.post(`${admin}/groups`, { data: { name: 'retrygroup', subdomain: 'retrygroup' } })).status()).toBe(201);
    const made = await page.request.post(`${admin}/groups/retrygroup/apis`, {
      data: { name: 'Orders', request: { method: 'POST', path: '/orders' } },
    });
    expect(made.status()).toBe(201);
    const id = (await made.json()).id;
    // Its own two targets (a 503 one of its own): failures on one backend do not eject the other's.
    const plain = {
      name: 'Payments',
      request: { method: 'POST', path: '/payments' },
      backend: { unified: false, type: 'http', http: { address: `${sick2Url}, ${echoUrl}` } },
    };
    expect((await page.request.post(`${admin}/groups/retrygroup/apis`, { data: plain })).status()).toBe(201);

    await page.goto(`/groups/retrygroup/apis/${id}`);
    await hydrated(page);
    const retry = page.getByLabel('Retry non-idempotent methods on another target');
    await expect(retry).not.toBeChecked();
    await expect(retry).toHaveAccessibleDescription(/safe to repeat/);
    await retry.check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('row', { name: /Orders/ })).toBeVisible();
    await page.goto(`/groups/retrygroup/apis/${id}`);
    await hydrated(page);
    await expect(page.getByLabel('Retry non-idempotent methods on another target')).toBeChecked();

    expect((await page.request.post(`${admin}/groups/retrygroup/versions`, { data: { label: '1' } })).status()).toBe(201);
    const live = await page.request.put(`${admin}/groups/retrygroup/deployments/test`, {
      data: { version: '1', backend: { type: 'http', address: `${sickUrl}, ${echoUrl}` } },
    });
    expect(live.status()).toBe(200);

    const post = (path: string, body: string) =>
      request.post(`http://127.0.0.1:${GATEWAY_PORT}${path}`, {
        headers: { Host: 'retrygroup.localhost', 'X-Ca-Stage': 'TEST', 'Content-Type': 'text/plain' },
        data: body,
      });
    // Without the opt-in, a POST that meets the 503 target gets the 503.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post('/payments', `payment ${i}`)).status());
    expect(statuses).toContain(503);
    // Opted in: every POST reaches the healthy target, with its own body.
    for (let i = 0; i < 6; i++) {
      const response = await post('/orders', `order ${i}`);
      expect(response.status()).toBe(200);
      expect((await response.json()).body).toBe(`order ${i}`);
    }
  } finally {
    sick.close();
    sick2.close();
    echo.close();
  }
});
