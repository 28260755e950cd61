import type { Page, Response } from "playwright-core";

/**
 * page.goto that tries again (up to 4 times, 500 ms apart) when Chromium reports
 * ERR_NETWORK_CHANGED: Docker adds and removes bridge and veth interfaces on this machine
 * (other test files running at the same time, box's app networks), and Chromium drops the
 * navigations in flight whenever the host's interface list changes, loopback ones included.
 * Any other error is thrown at once.
 */
export async function steadyGoto(page: Page, url: string, opts?: Parameters<Page["goto"]>[1]): Promise<Response | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url, opts);
    } catch (e) {
      if (attempt >= 4 || !/ERR_NETWORK_CHANGED|interrupted by another navigation to "chrome-error/.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
