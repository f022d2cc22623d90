// Debian's Chromium, headless, as a real browser: loads a URL (optionally through a PAC file) and
// returns the DOM it rendered. Flags as this machine needs them: no sandbox as root, no background
// traffic to the outside world.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function chromiumDom(url: string, opts: { pac?: string; timeoutMs?: number } = {}): Promise<{ code: number; dom: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), "fwd-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
    ...(opts.pac ? [`--proxy-pac-url=${opts.pac}`] : []),
    "--dump-dom",
    url,
  ];
  return new Promise((resolve) => {
    const p = spawn("chromium", args, { stdio: ["ignore", "pipe", "pipe"] });
    let dom = "";
    let stderr = "";
    p.stdout.on("data", (d) => (dom += d));
    p.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      resolve({ code: code ?? -1, dom, stderr });
    });
  });
}
