// Smoke run with the real box (not a test): npx tsx test/tools/apps-smoke.ts
// Starts box (tsx apps/box/src/main.ts) and the built admin on a fresh test database, installs
// the built-in static site through the API, waits for it, stops/starts it, uninstalls it.
import { startSmokeStack } from "../helpers/smoke-stack";

const stack = await startSmokeStack({ name: "smoke", captureBoxOutput: true });
const { admin, t } = stack;
const log = (...a: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...a);
try {
  const as = admin.browser(stack.cookie);
  const store = await admin.call("GET", "/api/v1/appstore", as);
  log("catalog", store.body.apps.map((a: { id: string; version: string }) => `${a.id}@${a.version}`).join(", "));
  const id = store.body.apps.find((a: { id: string }) => a.id.includes("staticsite")).id;
  const started = Date.now();
  const inst = await admin.call("POST", "/api/v1/apps", { ...as, body: { storeId: id, subdomain: "site", domain: "smoke.test" } });
  log("install", inst.status, JSON.stringify(inst.body));
  const wait = async (taskId: string) => {
    for (;;) {
      const tk = await admin.call("GET", `/api/v1/tasks/${taskId}`, as);
      if (["succeeded", "failed", "cancelled"].includes(tk.body.state)) return tk.body;
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  log("install task", JSON.stringify(await wait(inst.body.taskId)), `${Date.now() - started} ms`);
  const view = await admin.call("GET", `/api/v1/apps/${inst.body.id}`, as);
  log("app", view.body.installState, view.body.runState, view.body.health, view.body.url);
  const row = await t.db.app.findUniqueOrThrow({ where: { id: inst.body.id } });
  if (row.httpHostPort)
    log(
      "GET healthz",
      await fetch(`http://127.0.0.1:${row.httpHostPort}/healthz`).then(
        (r) => r.status,
        (e) => String(e.cause ?? e),
      ),
    );
  const logs = await fetch(`${admin.base}/api/v1/apps/${inst.body.id}/logs?lines=5`, { headers: { cookie: as.cookie! } });
  log("app logs", logs.status, (await logs.text()).slice(0, 300).replace(/\n/g, " | "));
  for (const op of ["stop", "start", "restart"]) {
    const r = await admin.call("POST", `/api/v1/apps/${inst.body.id}/${op}`, as);
    log(op, r.status, JSON.stringify((await wait(r.body.taskId)).state));
  }
  const cfg = await admin.call("POST", `/api/v1/apps/${inst.body.id}/configure`, { ...as, body: { memoryLimit: 200 * 1024 * 1024, env: { HELLO: "world" } } });
  log("configure", cfg.status, JSON.stringify(await wait(cfg.body.taskId)));
  const un = await admin.call("DELETE", `/api/v1/apps/${inst.body.id}`, as);
  log("uninstall", un.status, JSON.stringify(await wait(un.body.taskId)));
  log("app after", (await admin.call("GET", `/api/v1/apps/${inst.body.id}`, as)).status);
} catch (e) {
  console.error(e);
} finally {
  await stack.stop();
  if (process.env.SMOKE_VERBOSE) console.log(stack.boxOutput().slice(-4000));
}
