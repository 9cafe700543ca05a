// Accessibility audit with axe-core (WCAG 2.1 A and AA rules) of the page a test is on.
// Serious and critical findings fail the test run, with the rule, the page and the elements.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const findings = [];

export async function audit(page, name) {
  // Evaluated over the DevTools protocol, so the pages' Content-Security-Policy (no scripts)
  // stays as it is.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      findings.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
  console.error(`a11y ${name}: ${result.violations.map((v) => `${v.id}/${v.impact}`).join(' ') || 'clean'} (${result.passes.length} rules passed)`);
  return result.violations.length;
}

export function auditFindings() {
  return findings;
}
