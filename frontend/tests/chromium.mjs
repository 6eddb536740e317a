// What every browser test script shares: Debian's Chromium started by playwright-core with the same options, and the
// one line per check that the Java test running the script prints (ok/FAIL, with the time each took).
import { chromium } from 'playwright-core';

/** Debian's Chromium ($CHROMIUM if set), headless, with none of its own traffic (updates, sync, QUIC). */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

let failures = 0;

/** Runs one check and prints its line; a check that throws counts as failed, and the next ones still run. */
export async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e && e.stack || e}`);
  }
}

/** Closes the browser, prints the closing line, and exits non-zero when a check failed. */
export async function finish(browser, allPassed, someFailed) {
  await browser.close();
  console.log(failures === 0 ? allPassed : someFailed(failures));
  process.exit(failures === 0 ? 0 : 1);
}

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}
