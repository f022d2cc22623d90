// X11 forwarding (-X, -Y) as OpenSSH does it: the server is given a fake cookie; each X connection it
// sends back has that cookie replaced by the real one before it reaches the local display, so the
// real cookie never leaves this machine. -X (untrusted, the default) uses a cookie that xauth
// generates for the X SECURITY extension; -Y uses the display's own cookie.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { ExecOptions } from "../engine/link.ts";
import { pipeBoth } from "../engine/pipe.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { ByteReader } from "../socks/reader.ts";

const PROTOCOL = "MIT-MAGIC-COOKIE-1";
const SETUP_MS = 10_000;

export interface X11Setup {
  options: Pick<ExecOptions, "x11" | "onX11">;
}

/** The local display, the real cookie, and the handler that splices them into incoming X connections. */
export function x11Setup(display: string | undefined, trusted: boolean): Result<X11Setup> {
  const hint = "run fwd inside an X session (DISPLAY set), with xauth installed";
  if (!display) return fail(new FwdError("E_CONFIG", "-X: DISPLAY is not set", hint));
  const m = /^(?:unix)?(?<host>[^:]*):(?<n>\d+)(?:\.(?<screen>\d+))?$/.exec(display);
  if (!m?.groups) return fail(new FwdError("E_CONFIG", `-X: cannot read DISPLAY '${display}'`, "expected :N, :N.S or host:N"));
  const { host, n, screen } = m.groups as { host: string; n: string; screen?: string };
  const real = trusted ? listCookie(display, undefined) : untrustedCookie(display);
  if (!real) return fail(new FwdError("E_CONFIG", `-${trusted ? "Y" : "X"}: no X authority cookie for ${display}`, trusted ? hint : "the X server may lack the SECURITY extension: try -Y (trusted)"));
  const fake = randomBytes(real.length);
  const connect = (): Duplex =>
    host === "" || host === "unix" ? net.connect(`/tmp/.X11-unix/X${n}`) : net.connect(6000 + Number(n), host);
  return ok({
    options: {
      x11: { protocol: PROTOCOL, cookie: fake.toString("hex"), screen: Number(screen ?? 0) },
      onX11: (accept) => void splice(accept(), connect, fake, real),
    },
  });
}

/** Reads the client's connection setup, swaps the fake cookie for the real one, then pipes. */
async function splice(channel: Duplex, connect: () => Duplex, fake: Buffer, real: Buffer): Promise<void> {
  const r = new ByteReader(channel, SETUP_MS);
  try {
    const head = await r.bytes(12);
    const le = head[0] === 0x6c; // 'l': little-endian, 'B': big-endian
    const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
    const [nameLen, dataLen] = [u16(6), u16(8)];
    const pad = (x: number) => (x + 3) & ~3;
    const name = await r.bytes(pad(nameLen));
    const data = await r.bytes(pad(dataLen));
    r.release();
    if (name.subarray(0, nameLen).toString("latin1") !== PROTOCOL || !data.subarray(0, dataLen).equals(fake)) {
      channel.destroy();
      return;
    }
    const swapped = Buffer.from(data);
    real.copy(swapped, 0);
    const display = connect();
    display.on("error", () => channel.destroy());
    display.write(Buffer.concat([head, name, swapped]));
    await pipeBoth(channel, display, { up: 0, down: 0 });
  } catch {
    r.release();
    channel.destroy();
  }
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
