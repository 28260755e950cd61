import type { Locator, Page, Response } from "playwright-core";

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

/**
 * Clicks `button` (one that fetches, e.g. Reveal) until `done` shows, trying again (up to 4
 * clicks, 500 ms apart) when `within` shows a network error alert instead ("Failed to fetch":
 * Chromium's ERR_NETWORK_CHANGED as fetch reports it, see steadyGoto; the request never
 * reached the server). Any other alert, or no result within `timeoutMs`, is thrown.
 */
export async function steadyClick(button: Locator, done: Locator, within: Locator, timeoutMs = 15_000): Promise<void> {
  const alert = within.getByRole("alert");
  for (let attempt = 1; ; attempt++) {
    await button.click();
    // the previous attempt's alert goes when the new request starts; do not read it as this one's
    if (attempt > 1)
      await alert
        .first()
        .waitFor({ state: "hidden", timeout: 2_000 })
        .catch(() => {});
    const outcome = await Promise.race([
      done.waitFor({ timeout: timeoutMs }).then(() => "done" as const),
      alert
        .first()
        .waitFor({ timeout: timeoutMs })
        .then(() => "alert" as const),
    ]).catch((e: unknown) => {
      throw new Error(`neither the result nor an error showed after clicking (${String(e)})`);
    });
    if (outcome === "done") return;
    const text = ((await alert.first().textContent()) ?? "").trim();
    if (attempt >= 4 || !/Failed to fetch|ERR_NETWORK_CHANGED|NetworkError/i.test(text)) throw new Error(`clicking showed the error "${text}" (attempt ${attempt} of 4)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
