// HTTPS for a custom domain from the console: upload its certificate (a key that is not the
// certificate's is refused at its field), see its names and expiry, call the gateway's HTTPS
// listener with that name (SNI) and get that certificate; remove it (it asks first) and get
// the default one again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as https from 'node:https';
import { expect, test } from './fixtures';
import { GATEWAY_TLS_PORT } from '../playwright.config';
import { createGroup, hydrated, logIn } from './helpers';

const DOMAIN = 'shop-cert.example.test';

/** A self-signed P-256 certificate for `name`, valid 90 days, made with openssl. */
function certificate(name: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-cert-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

/** GET `path` on the HTTPS listener naming `servername`; the status and the names of the
 *  certificate the gateway presented. */
function callOverTls(servername: string, path: string): Promise<{ status: number; names: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      // A new agent each time: no TLS session resumption, so each call is a full handshake
      // and sees the certificate the gateway picks now.
      { host: '127.0.0.1', port: GATEWAY_TLS_PORT, path, servername, rejectUnauthorized: false, agent: false,
        headers: { Host: servername, 'X-Ca-Stage': 'TEST' } },
      (response) => {
        const names = (response.socket as import('node:tls').TLSSocket).getPeerCertificate().subjectaltname ?? '';
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, names }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

test('upload a certificate for a custom domain, see its names and expiry, and get it over HTTPS by SNI', async ({ page }) => {
  await logIn(page);
  await createGroup(page, 'certgroup');
  const admin = '/api/admin/v1';
  expect((await page.request.post(`${admin}/groups/certgroup/apis`, {
    data: { name: 'Hello', request: { method: 'GET', path: '/hello' } },
  })).status()).toBe(201);
  expect((await page.request.post(`${admin}/groups/certgroup/versions`, { data: { label: '1' } })).status()).toBe(201);
  expect((await page.request.put(`${admin}/groups/certgroup/deployments/test`, {
    data: { version: '1', backend: { type: 'mock' } },
  })).status()).toBe(200);

  await page.goto('/groups/certgroup/deployments');
  await hydrated(page);
  await expect(page.getByTestId('default-certificate')).toContainText('*.localhost');
  await expect(page.getByTestId('self-signed-warning')).toContainText('self-signed');
  await page.getByLabel('Host').fill(DOMAIN);
  await page.getByRole('button', { name: 'Add Domain' }).click();
  const row = page.getByRole('table', { name: 'Custom domains' }).getByRole('row', { name: new RegExp(DOMAIN.replace(/\./g, '\\.')) });
  await expect(row).toContainText('Default certificate');

  // A key that is not the certificate's is refused at its field; the right one is taken.
  const good = certificate(DOMAIN);
  const other = certificate(DOMAIN);
  await row.getByRole('button', { name: 'Upload Certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Upload Certificate' });
  await dialog.getByLabel('Certificate chain (PEM)').fill(good.cert);
  await dialog.getByLabel('Private key (PEM)').fill(other.key);
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await expect(dialog.getByText('the private key does not match the certificate')).toBeVisible();
  await dialog.getByLabel('Private key (PEM)').fill(good.key);
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toContainText(DOMAIN);
  await expect(row).toContainText(/expires \d{4}-\d{2}-\d{2} \(8\d days\)/);

  // The HTTPS listener presents it for that name, and the API answers.
  const served = await callOverTls(DOMAIN, '/hello');
  expect(served.status).toBe(200);
  expect(served.names).toBe(`DNS:${DOMAIN}`);

  // Remove Certificate asks first; then the default certificate is presented again.
  await row.getByRole('button', { name: 'Remove Certificate' }).click();
  const remove = page.getByRole('dialog', { name: 'Remove Certificate' });
  await expect(remove).toContainText(DOMAIN);
  await remove.getByRole('button', { name: 'Remove Certificate' }).click();
  await expect(row).toContainText('Default certificate');
  const fallback = await callOverTls(DOMAIN, '/hello');
  expect(fallback.status).toBe(200);
  expect(fallback.names).toContain('DNS:*.localhost');
});
