// An internal sponsor approves in a real browser: the partner requests (a passcode sign-in,
// as in partner.mjs), the sponsor signs in with a password, opens Approvals, reads who asked
// and why, and approves; the partner then sees the assignment delivered.
// Environment: BASE, PACKAGE, EMAIL, MAIL_DIR, SHOTS, SPONSOR, SPONSOR_PASSWORD.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const { BASE, PACKAGE, EMAIL, MAIL_DIR, SHOTS, SPONSOR, SPONSOR_PASSWORD } = process.env;
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
  // The partner asks.
  const partner = await (await browser.newContext()).newPage();
  await partner.goto(`${BASE}/access-packages/${PACKAGE}`);
  await partner.getByLabel('Email address').fill(EMAIL);
  await partner.getByRole('button', { name: 'Continue' }).click();
  await partner.getByLabel('Code').fill(await codeFor(EMAIL));
  await partner.getByRole('button', { name: 'Sign in' }).click();
  await partner.waitForURL(`**/access-packages/${PACKAGE}`);
  await partner.getByLabel(/Why do you need this/).fill('Joint launch plan');
  await partner.getByRole('button', { name: 'Request access' }).click();
  await partner.waitForURL('**/my-access**');
  if (!(await partner.content()).includes('pendingApproval')) fail('the request is not waiting for approval');

  // The sponsor decides, in another browser.
  const sponsor = await (await browser.newContext()).newPage();
  await sponsor.goto(`${BASE}/approvals`);
  await sponsor.getByLabel('Email address').fill(SPONSOR);
  await sponsor.getByRole('button', { name: 'Continue' }).click();
  await sponsor.getByLabel('Password').fill(SPONSOR_PASSWORD);
  await sponsor.getByRole('button', { name: 'Sign in' }).click();
  await sponsor.waitForURL('**/approvals');
  const inbox = await sponsor.locator('main').innerText();
  for (const seen of [EMAIL, 'Joint launch plan']) {
    if (!inbox.includes(seen)) fail(`the inbox does not show ${seen}: ${inbox}`);
  }
  await sponsor.screenshot({ path: path.join(SHOTS, 'approvals.png'), fullPage: true });
  await sponsor.getByLabel('Your reason').fill('Our partner for the launch');
  await sponsor.getByRole('button', { name: 'Approve' }).click();
  await sponsor.waitForURL('**/approvals?done=decided');

  // The partner has it.
  for (let i = 0; i < 50; i++) {
    await partner.goto(`${BASE}/my-access`);
    if ((await partner.locator('main').innerText()).includes('delivered')) break;
    await partner.waitForTimeout(100);
  }
  if (!(await partner.locator('main').innerText()).includes('delivered')) fail('not delivered after approval');
  console.log('ok');
} finally {
  await browser.close();
}
