// An operator logged in to Ferry's dashboard opens a session in the same browser: the session's server (a recording
// stand-in run by AdminCredentialsBrowserTest) must never get the operator's credentials, even when it asks for a
// password with `401 WWW-Authenticate: Basic`. Usage: node admin-credentials.mjs <config.json> (Ferry's URL, the
// session id, the admin credentials). Prints one line per check; exits non-zero when one fails.
import fs from 'node:fs';
import { check, expect, finish, launchChromium } from './chromium.mjs';

const { base, session, admin } = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const browser = await launchChromium();

// httpCredentials: the operator's password, given to whatever asks for one on this origin (an operator answering a
// password dialog, or a browser that remembered the password of an HTTP Basic login)
const context = await browser.newContext({ httpCredentials: admin });
const page = await context.newPage();

await check('the operator logs in to the dashboard', async () => {
  await page.goto(base + '/admin');
  if (page.url().includes('/admin/login')) {
    await page.fill('#username', admin.username);
    await page.fill('#password', admin.password);
    await Promise.all([page.waitForURL(/\/admin(\?continue)?$/), page.click('#login button[type=submit]')]);
  }
  expect((await page.textContent('h1')).includes('What is running'), 'not the dashboard: ' + page.url());
});

await check('the session page and its requests load', async () => {
  await page.goto(base + `/user/${session}/page`);
  await page.waitForFunction(() => document.title.startsWith('fetched'), null, { timeout: 10000 });
  expect(await page.title() === 'fetched 200', 'the page\'s fetch got ' + await page.title());
});

await check('a session asking for a password gets none, and shows no dialog', async () => {
  const response = await page.goto(base + `/user/${session}/basic`);
  expect(response.status() === 401, 'status ' + response.status());
  expect(!('www-authenticate' in response.headers()), 'the challenge reached the browser');
  const fetched = await page.evaluate(async (url) => (await fetch(url)).status, base + `/user/${session}/basic-fetch`);
  expect(fetched === 401, 'fetch status ' + fetched);
});

await check('the login cookie is for the admin paths only, HttpOnly and SameSite=Strict', async () => {
  const cookies = await context.cookies(); // (all: given a URL, playwright keeps only those whose path it matches)
  const login = cookies.find(c => c.name === 'FERRY_ADMIN');
  expect(login, 'no FERRY_ADMIN cookie; the browser has: ' + JSON.stringify(cookies.map(c => c.name + ' ' + c.path)));
  expect(login.path === '/admin' && login.httpOnly && login.sameSite === 'Strict', JSON.stringify(login));
  expect(!cookies.some(c => c.path === '/'), 'a cookie for every path: ' + JSON.stringify(cookies));
});

await check('logging out ends the login', async () => {
  await page.goto(base + '/admin');
  await Promise.all([page.waitForURL(/\/admin\/login\?logout/), page.click('#logout')]);
  expect((await page.textContent('main')).includes('You are logged out.'), 'no logged-out sentence');
  const api = await page.request.get(base + '/admin/api/snapshot');
  expect(api.status() === 401, 'the API still answers ' + api.status());
});

await finish(browser, 'all admin credential checks passed', n => n + ' check(s) failed');
