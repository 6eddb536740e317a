// A Zenodo record launched in a real browser (Debian's Chromium driven by playwright-core), the way a reader of a
// paper does. Usage: node zenodo.mjs <config.json> — written by ZenodoLaunchTest: Ferry's URL, the concept DOI, the
// version DOI it resolves to, the record's title and authors, and where to save screenshots.
// Prints one line per check; exits non-zero on the first failure.
import fs from 'node:fs';
import path from 'node:path';
import { check, expect, finish, launchChromium } from './chromium.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { base, doi, versionDoi, title, authors, screenshots } = config;
fs.mkdirSync(screenshots, { recursive: true });

const browser = await launchChromium();

const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
const page = await context.newPage();

await check('pasting a DOI picks the Zenodo provider, builds a link without a ref, and the snippets name the record', async () => {
  await page.goto(base + '/');
  await page.fill('#repo', 'https://doi.org/' + doi);
  await page.dispatchEvent('#repo', 'paste');
  await page.waitForFunction(() => document.getElementById('provider').value === 'zenodo', null, { timeout: 5000 });
  expect(await page.inputValue('#repo') === doi, 'DOI not recognised: ' + await page.inputValue('#repo'));
  expect(await page.isDisabled('#ref'), 'a record has no ref, but the ref field is enabled');
  await page.fill('#path', 'notebooks/intro.ipynb');
  await page.dispatchEvent('#path', 'input');
  const link = `${base}/v2/zenodo/${doi}?filepath=${encodeURIComponent('notebooks/intro.ipynb')}`;
  expect(await page.inputValue('#snippet-url') === link, 'link snippet is ' + await page.inputValue('#snippet-url'));
  // the snippets name the record once Ferry has asked the archive about it
  await page.waitForFunction(t => document.getElementById('snippet-markdown').value.includes(t), title, { timeout: 10000 });
  const markdown = await page.inputValue('#snippet-markdown');
  const firstAuthor = authors.split('; ')[0];
  expect(markdown.startsWith(`[![Launch ${title} — ${firstAuthor}`) && markdown.endsWith(`](${base}/badge_logo.svg)](${link})`),
      'markdown snippet is ' + markdown);
  expect((await page.inputValue('#snippet-html')).includes(`alt="Launch ${title} — ${firstAuthor}`), 'html snippet');
  expect((await page.inputValue('#snippet-rst')).includes(`:alt: Launch ${title}`), 'rst snippet');
});

await check('the launch page names the record, then the browser lands on its notebook', async () => {
  await page.press('#repo', 'Enter');
  await page.waitForURL(/\/v2\/zenodo\//);
  expect((await page.textContent('#record-title')) === title, 'title shown: ' + await page.textContent('#record-title'));
  expect((await page.textContent('#record-authors')) === authors, 'authors shown: ' + await page.textContent('#record-authors'));
  expect((await page.textContent('#record-version')) === versionDoi.split('.').pop(), 'version shown');
  const og = await page.getAttribute('meta[property="og:title"]', 'content');
  expect(og.includes(title) && og.includes(authors.split('; ')[0]), 'og:title is ' + og);
  await page.screenshot({ path: path.join(screenshots, 'zenodo-launch.png'), fullPage: true });
  await page.waitForURL(/\/user\/[a-z2-7]{32}\//, { timeout: 120000 });
  await page.waitForLoadState('domcontentloaded');
  expect(page.url().includes('/notebooks/notebooks/intro.ipynb'), 'not on the notebook: ' + page.url());
  await page.waitForFunction(() => document.body.innerText.includes('Hello from Zenodo'), null, { timeout: 30000 });
  await page.screenshot({ path: path.join(screenshots, 'zenodo-notebook.png'), fullPage: true });
});

await finish(browser, 'all browser checks passed', n => `${n} browser check(s) failed`);
