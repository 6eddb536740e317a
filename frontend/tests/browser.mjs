// Ferry in a real browser (Debian's Chromium driven by playwright-core), the way people use it.
// Usage: node browser.mjs <config.json>   — written by BrowserTest: Ferry's URL, the repositories it prepared, a
// workshop's slug, the admin credentials and where to save screenshots. Prints one line per check; exits non-zero on the first failure.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { check, expect, finish, launchChromium } from './chromium.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { base, githubHost, repos, admin, screenshots } = config;
fs.mkdirSync(screenshots, { recursive: true });

const browser = await launchChromium();

async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshots, name + '.png'), fullPage: true });
}

/** axe-core's WCAG 2 A/AA rules: labels, contrast, names, landmarks, focusable controls. */
async function accessible(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const problems = result.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
  expect(problems.length === 0, `${name} has accessibility violations: ${problems.join('; ')}`);
}

// bypassCSP only lets the test inject axe-core into pages whose own policy forbids inline scripts
const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, bypassCSP: true });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
const page = await context.newPage();

await check('pasting a GitHub file URL fills the fields and the snippets; copy buttons copy', async () => {
  await page.goto(base + '/');
  await accessible(page, 'home page');
  // what a paste does: the URL lands in the field and a paste event fires
  await page.fill('#repo', `${githubHost}/${repos.good}/tree/main/notebooks/intro.ipynb`);
  await page.dispatchEvent('#repo', 'paste');
  await page.waitForFunction(() => document.getElementById('provider').value === 'gh', null, { timeout: 5000 });
  expect(await page.inputValue('#repo') === repos.good, 'repository not recognised: ' + await page.inputValue('#repo'));
  expect(await page.inputValue('#ref') === 'main', 'ref not recognised');
  expect(await page.inputValue('#path') === 'notebooks/intro.ipynb', 'file not recognised');
  expect(await page.inputValue('#pathType') === 'file', 'the file should open as a file');
  const link = `${base}/v2/gh/${repos.good}/main?filepath=${encodeURIComponent('notebooks/intro.ipynb')}`;
  expect(await page.inputValue('#snippet-url') === link, 'link snippet is ' + await page.inputValue('#snippet-url'));
  expect((await page.inputValue('#snippet-markdown')) === `[![Launch with Ferry](${base}/badge_logo.svg)](${link})`, 'markdown snippet');
  expect((await page.inputValue('#snippet-rst')) === `.. image:: ${base}/badge_logo.svg\n :target: ${link}`, 'rst snippet');
  await page.click('button[data-copy="snippet-markdown"]');
  await page.waitForFunction(() => document.querySelector('button[data-copy="snippet-markdown"]').textContent === 'Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText()) === await page.inputValue('#snippet-markdown'),
      'the clipboard does not hold the markdown snippet');
  await shot(page, 'home');
});

await check('the form can be used with the keyboard alone and explains what is missing', async () => {
  await page.goto(base + '/');
  await page.keyboard.press('Tab'); // skip link order: brand link first
  const order = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
  }
  expect(JSON.stringify(order.slice(0, 5)) === JSON.stringify(['provider', 'repo', 'ref', 'path', 'pathType']),
      'focus order is ' + order.join(', '));
  await page.locator('#repo').focus();
  await page.keyboard.press('Enter');
  expect(await page.isVisible('#form-error'), 'no message for an empty repository');
  expect((await page.textContent('#form-error')).includes('Enter a repository'), 'unclear message');
});

let sessionUrl;
await check('launching shows phases and log lines, then opens the file in Jupyter', async () => {
  await page.goto(`${base}/?`);
  await page.selectOption('#provider', 'gh');
  await page.fill('#repo', repos.good);
  await page.fill('#ref', 'main');
  await page.fill('#path', 'notebooks/intro.ipynb');
  await page.selectOption('#pathType', 'file');
  await page.press('#repo', 'Enter');
  await page.waitForURL(/\/v2\/gh\//);
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('Fetching'), null, { timeout: 60000 });
  expect(await page.locator('.phases li.done').count() >= 1, 'no finished phase shown');
  expect((await page.title()).includes('· Ferry'), 'title does not show the state');
  await shot(page, 'launch');
  await page.waitForURL(/\/user\/[a-z2-7]{32}\//, { timeout: 120000 });
  sessionUrl = page.url().replace(/(\/user\/[a-z2-7]{32}\/).*/, '$1');
  await page.waitForLoadState('domcontentloaded');
  expect(page.url().includes('/notebooks/notebooks/intro.ipynb'), 'not on the notebook: ' + page.url());
  await page.waitForFunction(() => document.title.includes('intro'), null, { timeout: 30000 });
  await shot(page, 'notebook');
});

await check('a repository whose build fails shows the failure panel with the message and the log', async () => {
  const failing = await context.newPage();
  await failing.goto(`${base}/v2/gh/${repos.broken}/main`);
  await failing.waitForSelector('#failure:not([hidden])', { timeout: 120000 });
  const message = await failing.textContent('#failure-message');
  expect(message.includes('requirements.txt failed'), 'failure message is: ' + message);
  expect(await failing.isVisible('#failure-files'), 'no pointer to the environment files');
  expect((await failing.textContent('#log')).includes('Invalid requirement'), 'the log is not kept visible');
  expect((await failing.title()).startsWith('Failed'), 'title does not say it failed');
  await accessible(failing, 'failed launch page');
  await shot(failing, 'launch-failed');
  await failing.close();
});

await check('the dashboard shows the session, and stopping it works', async () => {
  // bypassCSP only lets the test inject axe-core: the dashboard's own policy forbids inline scripts
  const adminContext = await browser.newContext({ viewport: { width: 1200, height: 900 }, bypassCSP: true });
  const dash = await adminContext.newPage();
  await dash.goto(base + '/admin');
  expect(dash.url().endsWith('/admin/login'), 'not sent to the login form: ' + dash.url());
  await accessible(dash, 'login page');
  await shot(dash, 'admin-login');
  await dash.fill('#username', admin.username);
  await dash.fill('#password', admin.password);
  await Promise.all([dash.waitForURL(/\/admin(\?continue)?$/), dash.click('#login button[type=submit]')]);
  const id = sessionUrl.match(/\/user\/([a-z2-7]{32})\//)[1];
  await dash.waitForSelector(`tr[data-session="${id}"]`, { timeout: 10000 });
  await accessible(dash, 'dashboard');
  await shot(dash, 'dashboard');
  await dash.click(`tr[data-session="${id}"] button.stop`);
  await dash.waitForSelector(`tr[data-session="${id}"]`, { state: 'detached', timeout: 15000 });
  // the live update may remove the row before the stop request's answer arrives: wait for the confirmation too
  const confirmed = await dash.waitForFunction(() => document.querySelector('#action-status').textContent.includes('stopped'),
    null, { timeout: 15000 }).then(() => true, () => false);
  expect(confirmed, 'no confirmation of the stop');
  await adminContext.close();
});

await check('an ended session URL shows a friendly page whose relaunch button works', async () => {
  const response = await page.goto(sessionUrl + 'tree');
  expect(response.status() === 404, 'status ' + response.status());
  expect((await page.textContent('h1')).includes('This session has ended'), 'not the friendly page');
  expect((await page.textContent('main')).includes('an operator stopped it'), 'the reason is not shown');
  await accessible(page, 'ended session page');
  await shot(page, 'session-ended');
  await page.click('#relaunch');
  await page.waitForURL(/\/user\/[a-z2-7]{32}\//, { timeout: 120000 });
  expect(!page.url().startsWith(sessionUrl), 'the same session came back');
  const api = await page.request.get(sessionUrl + 'api/status');
  expect(api.status() === 404 && (await api.text()).startsWith('{'), 'API requests must still get the plain 404');
});

await check('a workshop link gives a fresh browser a seat in one click, and the same seat on the next visit', async () => {
  const attendee = await browser.newContext({ viewport: { width: 1200, height: 900 } }); // no cookies yet
  const visit = await attendee.newPage();
  await visit.goto(`${base}/e/${config.workshop}`);
  await visit.waitForURL(/\/user\/[a-z2-7]{32}\//, { timeout: 120000 });
  const seat = visit.url().replace(/(\/user\/[a-z2-7]{32}\/).*/, '$1');
  await visit.goto(`${base}/e/${config.workshop}`);
  await visit.waitForURL(/\/user\/[a-z2-7]{32}\//, { timeout: 60000 });
  expect(visit.url().startsWith(seat), 'the second visit got another seat: ' + visit.url());
  await attendee.close();
});

await finish(browser, 'all browser checks passed', n => `${n} browser check(s) failed`);
