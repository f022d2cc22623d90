// X11 forwarding (-X, -Y) as OpenSSH does it: the server is given a fake cookie; the engine's x11
// forward (engine/x11-forward.ts) swaps it for the real one in each X connection the server sends
// back, so the real cookie never leaves this machine. -X (untrusted, the default) uses a cookie that
// xauth generates for the X SECURITY extension; -Y uses the display's own cookie. This file finds
// the display and the cookies; the engine carries the connections.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecOptions } from "../engine/link.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { X11Forward } from "../vocab/forward.ts";

const PROTOCOL = "MIT-MAGIC-COOKIE-1";

export interface X11Setup {
  /** What the command's exec asks the server for. */
  exec: NonNullable<ExecOptions["x11"]>;
  /** The forward that carries the X connections the server opens back. */
  forward: X11Forward;
}

/** The local display, the real cookie and a fake one for the server. */
export function x11Setup(display: string | undefined, trusted: boolean): Result<X11Setup> {
  const flag = trusted ? "-Y" : "-X";
  const hint = "run fwd inside an X session (DISPLAY set), with xauth installed";
  if (!display) return fail(new FwdError("E_CONFIG", "-X: DISPLAY is not set", hint));
  const m = /^(?:unix)?(?<host>[^:]*):(?<n>\d+)(?:\.(?<screen>\d+))?$/.exec(display);
  if (!m?.groups) return fail(new FwdError("E_CONFIG", `-X: cannot read DISPLAY '${display}'`, "expected :N, :N.S or host:N"));
  const { host, n, screen } = m.groups as { host: string; n: string; screen?: string };
  const real = trusted ? listCookie(display, undefined) : untrustedCookie(display);
  if (!real) return fail(new FwdError("E_CONFIG", `${flag}: no X authority cookie for ${display}`, trusted ? hint : "the X server may lack the SECURITY extension: try -Y (trusted)"));
  const fake = randomBytes(real.length).toString("hex");
  return ok({
    exec: { protocol: PROTOCOL, cookie: fake, screen: Number(screen ?? 0) },
    forward: {
      kind: "x11",
      id: flag,
      target: host === "" || host === "unix" ? { path: `/tmp/.X11-unix/X${n}` } : { host, port: 6000 + Number(n) },
      protocol: PROTOCOL,
      fakeCookie: fake,
      realCookie: real.toString("hex"),
    },
  });
}

function listCookie(display: string, file: string | undefined): Buffer | undefined {
  const r = spawnSync("xauth", [...(file ? ["-f", file] : []), "list", display], { encoding: "utf8" });
  const line = r.stdout?.split("\n").find((l) => l.includes(PROTOCOL));
  const hex = line?.trim().split(/\s+/)[2];
  return hex && /^[0-9a-f]+$/i.test(hex) ? Buffer.from(hex, "hex") : undefined;
}

function untrustedCookie(display: string): Buffer | undefined {
  const dir = mkdtempSync(join(tmpdir(), "fwd-xauth-"));
  try {
    const file = join(dir, "xauthfile");
    const g = spawnSync("xauth", ["-f", file, "generate", display, PROTOCOL, "untrusted", "timeout", "1200"], { encoding: "utf8" });
    return g.status === 0 ? listCookie(display, file) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
