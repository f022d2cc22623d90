// A real MariaDB server (Debian's mariadb-server) on a free loopback port, from a throw-away data
// directory, without grant tables so any user gets in. Stopped and removed by stop().

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./net.ts";

export interface MariaDb {
  port: number;
  stop(): Promise<void>;
}

export async function startMariaDb(): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), "fwd-mariadb-"));
  const data = join(dir, "data");
  const init = spawnSync("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const p = spawn(
    "mariadbd",
    ["--no-defaults", `--datadir=${data}`, "--user=root", "--bind-address=127.0.0.1", `--port=${port}`, `--socket=${join(dir, "mysql.sock")}`, `--pid-file=${join(dir, "mysqld.pid")}`, "--skip-grant-tables", "--skip-log-bin"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const log: string[] = [];
  p.stderr!.on("data", (d: Buffer) => log.push(d.toString()));
  const exited = new Promise<never>((_, reject) => p.once("exit", (code) => reject(new Error(`mariadbd exited (${code}): ${log.join("")}`))));
  exited.catch(() => {});
  await Promise.race([waitForPort("127.0.0.1", port, 30_000), exited]);
  return {
    port,
    stop: async () => {
      if (p.exitCode === null) {
        const gone = new Promise((r) => p.once("exit", r));
        p.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
