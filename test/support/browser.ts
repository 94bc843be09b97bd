import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from './services.js';

// Whether the UI tests run is settled in services.ts, which the test runner's orchestrator reads without loading playwright.
export { CHROMIUM, UI_SKIP } from './services.js';

export const SCREENSHOTS = join(process.cwd(), 'test-output', 'ui');

export interface UiSession {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors seen so far. */
  readonly errors: string[];
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A headless Chromium page at 1280×800 that records console errors; screenshots go to test-output/ui/. */
export async function openUi(baseURL: string, opts: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<UiSession> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ baseURL, viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 }, colorScheme: opts.colorScheme ?? 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    browser,
    context,
    page,
    errors,
    async shot(name) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
    },
    async close() {
      await browser.close();
    },
  };
}

/**
 * Collects every Content-Security-Policy violation of the page (the `securitypolicyviolation` event, on every
 * document it loads) besides the console errors the session records.
 */
export async function watchCsp(ui: UiSession): Promise<string[]> {
  const violations: string[] = [];
  await ui.page.exposeFunction('__kilnCspViolation', (v: string) => void violations.push(v));
  await ui.page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => window.__kilnCspViolation(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));`);
  return violations;
}

/** Console errors other than the 401s the browser logs for the expected answers of a signed-out client. */
export const unexpectedErrors = (errors: readonly string[]): string[] => errors.filter((e) => !/status of 401/.test(e));

/** How many distinct colours the canvas of the chart `[data-metric=<metric>]` holds (a blank canvas has one or zero). */
export async function chartColours(page: Page, metric: string): Promise<number> {
  // Runs in the page (a string, so the tests need no DOM types).
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-metric="${metric}"] canvas');
    if (!c) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 16) seen.add((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]);
    return seen.size;
  })()`) as Promise<number>;
}
