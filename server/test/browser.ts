import fs from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { toDataURL } from "qrcode";

/**
 * Debian's Chromium, driven by playwright-core (never a downloaded browser).
 * Without it the browser tests are skipped, saying why, except under CI, where
 * .ci/run installs it and its absence is a failure.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const chromiumSkipReason = fs.existsSync(CHROMIUM) ? "" : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
if (chromiumSkipReason) {
  if (process.env.CI === "true") throw new Error(`CI=true but ${chromiumSkipReason}`);
  console.log(`[tests] browser tests skipped: ${chromiumSkipReason}`);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A phone-sized context (360 px wide, as the smallest phones in use), with the camera allowed. */
export async function phoneContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, locale: "en-GB" });
  await context.grantPermissions(["camera"], { origin: baseURL });
  await context.addInitScript(FAKE_CAMERA);
  return context;
}

/** What the fake camera adds to the page: shows this image (a data URL) to the camera, or a blank frame. */
interface FakeCamera {
  showToCamera(image: string | null): Promise<void>;
}

/**
 * The camera, faked in the page: getUserMedia answers a canvas's stream, on
 * which the test shows the QR code of its choice (the app decodes it as it
 * would a real camera's frames).
 */
const FAKE_CAMERA = `(() => {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 480;
  const context = canvas.getContext("2d");
  let image = null;
  const draw = () => {
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (image) context.drawImage(image, 160, 80, 320, 320);
  };
  draw();
  setInterval(draw, 40);
  window.showToCamera = (url) => new Promise((resolve, reject) => {
    if (!url) { image = null; draw(); resolve(); return; }
    const next = new Image();
    next.onload = () => { image = next; draw(); resolve(); };
    next.onerror = reject;
    next.src = url;
  });
  const devices = navigator.mediaDevices;
  if (!devices) return;
  devices.getUserMedia = async () => canvas.captureStream(25);
  devices.enumerateDevices = async () => [{ kind: "videoinput", deviceId: "fake-camera", groupId: "fake", label: "Fake camera", toJSON() { return this; } }];
})();`;

/** Shows the QR code of `text` to the page's fake camera. */
export async function showQr(page: Page, text: string | null): Promise<void> {
  const image = text === null ? null : await toDataURL(text, { margin: 4, width: 320, errorCorrectionLevel: "M" });
  await page.evaluate((url) => (globalThis as unknown as FakeCamera).showToCamera(url), image);
}

/** What the page's service worker container shows (the browser's `navigator.serviceWorker`, not Node's). */
interface PageWithServiceWorker {
  navigator: { serviceWorker: { ready: Promise<unknown>; controller: unknown } };
}

/** Waits until the page's service worker is installed and controls the page. */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as PageWithServiceWorker).navigator.serviceWorker.ready.then(() => undefined));
  await page.waitForFunction(
    () => (globalThis as unknown as PageWithServiceWorker).navigator.serviceWorker.controller !== null,
    undefined,
    {
      timeout: 15_000,
    },
  );
}
