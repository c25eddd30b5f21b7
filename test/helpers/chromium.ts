// Debian's Chromium for the browser suites, headless, never downloaded: how it is launched, and
// what a page must not do (content the CSP blocked, script errors, requests for what Tollgate lacks).
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from './requirements.js';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
}

/**
 * Collects what went wrong in the page: content the CSP blocked (a strict policy must block
 * nothing of ours), script errors, and requests for things Tollgate at `base` does not have.
 */
export function watchConsole(page: Page, base: string, problems: string[] = []): string[] {
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('response', (response) => {
    if (response.status() === 404 && response.url().startsWith(base)) problems.push(`404 ${response.url()}`);
  });
  return problems;
}
