// A partner in a real browser (Debian's Chromium, driven by playwright-core): opens the
// access package link, signs in with the code mailed to them (read from the server's mail
// folder), requests the package with a justification, and sees the assignment in My access.
// Environment: BASE (server URL), PACKAGE (id), EMAIL, MAIL_DIR, SHOTS (folder for screenshots).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const { BASE, PACKAGE, EMAIL, MAIL_DIR, SHOTS } = process.env;
const fail = (m) => { console.error(`FAILED: ${m}`); process.exit(1); };

async function codeFor(address) {
  for (let i = 0; i < 100; i++) {
    const files = fs.readdirSync(MAIL_DIR).filter((f) => f.endsWith('.eml'))
      .map((f) => path.join(MAIL_DIR, f))
      .map((f) => ({ f, text: fs.readFileSync(f, 'utf8'), t: fs.statSync(f).mtimeMs }))
      .filter((m) => m.text.includes(`To: ${address}`))
      .sort((a, b) => b.t - a.t);
    const m = files[0] && files[0].text.match(/Your sign-in code is (\d+)/);
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
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await page.goto(`${BASE}/access-packages/${PACKAGE}`);
  if (!page.url().includes('/sign-in')) fail(`the link did not lead to sign-in: ${page.url()}`);
  await page.getByLabel('Email address').fill(EMAIL);
  await shot('sign-in');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
  if (!(await page.content()).includes('Check your email')) {
    fail(`no code page after the email step: ${page.url()} ${await page.locator('body').innerText()}`);
  }
  const code = await codeFor(EMAIL);
  await page.getByLabel('Code').fill(code);
  await shot('code');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**/access-packages/${PACKAGE}`);
  await page.getByLabel(/Why do you need this/).fill('Project Falcon with our partners');
  await shot('access-package');
  await page.getByRole('button', { name: 'Request access' }).click();
  await page.waitForURL('**/my-access**');
  for (let i = 0; i < 50; i++) {
    if ((await page.content()).includes('delivered')) break;
    await page.waitForTimeout(100);
    await page.reload();
  }
  const text = await page.locator('main').innerText();
  if (!text.includes('delivered')) fail(`no delivered assignment on My access: ${text}`);
  const end = new Date(Date.now() + 365 * 86400e3).toISOString().slice(0, 10);
  if (!text.includes(end)) fail(`the assignment does not end on ${end}: ${text}`);
  await shot('my-access');
  // Keyboard only: the sign-out button is reachable and labelled.
  const signOut = page.getByRole('button', { name: /Sign out/ });
  await signOut.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL('**/sign-in**');
  console.log('ok');
} finally {
  await browser.close();
}
