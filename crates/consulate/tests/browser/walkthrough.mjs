// The walkthrough, end to end in a real browser. The administrator creates a catalog, adds a
// group, and creates an access package whose policy admits one connected organization, added
// on the spot; copies the link. The partner opens it, signs in with the mailed code, requests
// with a justification and is given access for 365 days. The administrator sees it in the
// report. Environment: BASE, ADMIN, ADMIN_PASSWORD, GROUP, EMAIL, DOMAIN, MAIL_DIR, SHOTS.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { audit, auditFindings } from './a11y.mjs';

const { BASE, ADMIN, ADMIN_PASSWORD, GROUP, EMAIL, DOMAIN, MAIL_DIR, SHOTS } = process.env;
const fail = (m) => { console.error(`FAILED: ${m}`); process.exit(1); };

async function codeFor(address) {
  for (let i = 0; i < 100; i++) {
    const m = fs.readdirSync(MAIL_DIR).filter((f) => f.endsWith('.eml'))
      .map((f) => fs.readFileSync(path.join(MAIL_DIR, f), 'utf8'))
      .filter((t) => t.includes(`To: ${address}`))
      .map((t) => t.match(/Your sign-in code is (\d+)/))
      .find(Boolean);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`no code mailed to ${address}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const admin = await (await browser.newContext()).newPage();
  const shot = (p, name) => p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await admin.goto(`${BASE}/admin/catalogs`);
  await audit(admin, 'sign-in');
  await admin.getByLabel('Email address').fill(ADMIN);
  await admin.getByRole('button', { name: 'Continue' }).click();
  await audit(admin, 'password');
  await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await admin.waitForURL('**/admin/catalogs');
  await audit(admin, 'admin catalogs');
  // Catalog, enabled for external users.
  await admin.getByLabel('Name').fill('Marketing');
  await admin.getByRole('button', { name: 'Create catalog' }).click();
  await admin.waitForURL('**/admin/catalogs/*');
  // A group and its roles.
  await admin.getByLabel('Add a group').selectOption({ label: GROUP });
  await admin.getByRole('button', { name: 'Add group' }).click();
  await admin.waitForURL('**/admin/catalogs/*');
  // The package: the group's Member role, for one connected organization added here.
  await admin.getByLabel('Name', { exact: true }).fill('Campaign collaboration');
  await admin.getByLabel(`Member of ${GROUP}`).check();
  await admin.getByLabel('Users from a specific connected organization').check();
  await admin.getByLabel('New connected organization: name').fill('Graphic Design Institute');
  await admin.getByLabel('New connected organization: domain').fill(DOMAIN);
  await admin.getByLabel('Requestors must give a justification').check();
  await admin.getByLabel(/Assignments end after/).fill('365');
  await shot(admin, 'admin-new-package');
  await audit(admin, 'admin catalog and package form');
  await admin.getByRole('button', { name: 'Review' }).click();
  // Review, then create.
  const review = await admin.locator('main').innerText();
  for (const seen of ['Campaign collaboration', `Member of ${GROUP}`, 'Graphic Design Institute', 'after 365 days', 'required']) {
    if (!review.includes(seen)) fail(`the review does not show ${seen}: ${review}`);
  }
  await audit(admin, 'admin package review');
  await shot(admin, 'admin-package-review');
  await admin.getByRole('button', { name: 'Create access package' }).click();
  await admin.waitForURL('**/admin/packages/*');
  const link = await admin.getByLabel(/My Access link/).inputValue();
  if (!link.startsWith(`${BASE}/access-packages/`)) fail(`not a link: ${link}`);
  await shot(admin, 'admin-package');
  await audit(admin, 'admin package');

  // The partner.
  const partner = await (await browser.newContext()).newPage();
  await partner.goto(link);
  await partner.getByLabel('Email address').fill(EMAIL);
  await partner.getByRole('button', { name: 'Continue' }).click();
  await audit(partner, 'passcode');
  await partner.getByLabel('Code').fill(await codeFor(EMAIL));
  await partner.getByRole('button', { name: 'Sign in' }).click();
  await partner.waitForURL(link);
  await audit(partner, 'access package');
  await partner.getByLabel(/Why do you need this/).fill('Spring campaign');
  await partner.getByRole('button', { name: 'Request access' }).click();
  await partner.waitForURL('**/my-access**');
  for (let i = 0; i < 50 && !(await partner.content()).includes('delivered'); i++) {
    await partner.waitForTimeout(100);
    await partner.reload();
  }
  await audit(partner, 'my access');
  const mine = await partner.locator('main').innerText();
  const end = new Date(Date.now() + 365 * 86400e3).toISOString().slice(0, 10);
  if (!mine.includes('delivered') || !mine.includes(end)) fail(`no assignment ending ${end}: ${mine}`);

  // The administrator's report names the partner, the organization and the package.
  await admin.goto(`${BASE}/admin/reports`);
  const report = await admin.locator('main').innerText();
  for (const seen of ['Graphic Design Institute', EMAIL, 'Campaign collaboration']) {
    if (!report.includes(seen)) fail(`the report does not show ${seen}: ${report}`);
  }
  await shot(admin, 'admin-reports');
  await audit(admin, 'admin reports');
  await admin.goto(`${BASE}/admin/organizations`);
  await shot(admin, 'admin-organizations');
  for (const page of ['/admin', '/admin/organizations', '/admin/organizations/new', '/admin/settings',
    '/admin/sign-in', '/admin/audit', '/admin/directory', '/access-packages', '/approvals']) {
    await admin.goto(`${BASE}${page}`);
    await audit(admin, page);
  }
  const findings = auditFindings();
  if (findings.length) fail(`accessibility:\n${findings.join('\n')}`);
  console.log('ok');
} finally {
  await browser.close();
}
