// -X/-Y: each X11 connection the server opens back has its fake cookie replaced by the real one
// before it reaches the local display, then is carried like any other connection (counted, in the
// snapshot, given the stop's grace). It listens nowhere: the connections arrive on the session.

import type { Duplex } from "node:stream";
import { FwdError, ok, type Result } from "../errors.ts";
import { ByteReader } from "../socks/reader.ts";
import { formatEndpoint } from "../vocab/endpoint.ts";
import type { X11Forward } from "../vocab/forward.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { connectionSlots } from "./connections.ts";
import { dialLocal } from "./dial.ts";
import type { Forwarder, ForwardKindModule } from "./forwarder.ts";
import type { Incoming } from "./link.ts";
import { snapshotOf, type ForwardSnapshot } from "./snapshot.ts";

/** From the channel's opening to the end of the X client's connection setup. */
const SETUP_MS = 10_000;
const HEX = /^(?:[0-9a-f]{2})+$/i;

export const x11Kind: ForwardKindModule<X11Forward> = {
  validate: (spec) =>
    !spec.protocol || !HEX.test(spec.fakeCookie) || !HEX.test(spec.realCookie) || spec.fakeCookie.length !== spec.realCookie.length
      ? new FwdError("E_CONFIG", `${spec.id}: the X11 cookies must be hex of one length, with their protocol`, "this is a bug in the caller that built the forward")
      : undefined,
  create: (spec, ctx) => ok(new X11Forwarder(spec, ctx.rt)),
};

export class X11Forwarder extends Carrier implements Forwarder {
  readonly bound = undefined;
  private stopped = false;
  private readonly fake: Buffer;
  private readonly real: Buffer;

  constructor(
    readonly spec: X11Forward,
    rt: ForwardRuntime,
  ) {
    super(spec.id, rt);
    this.fake = Buffer.from(spec.fakeCookie, "hex");
    this.real = Buffer.from(spec.realCookie, "hex");
  }

  async start(): Promise<Result<undefined>> {
    return ok(undefined);
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.stop();
  }

  snapshot(): ForwardSnapshot {
    return snapshotOf(this, this.spec, undefined);
  }

  incoming(c: Incoming): boolean {
    if (!c.x11) return false;
    if (this.stopped || !connectionSlots.take((m, hint) => this.rt.bus.log("warn", `${this.id}: ${m}`, hint))) c.reject();
    else void this.serve(c).finally(() => connectionSlots.release());
    return true;
  }

  private async serve(c: Incoming): Promise<void> {
    const channel = c.accept();
    const setup = await this.readSetup(channel);
    if (!setup) return;
    const display = await dialLocal(this.id, this.spec.target);
    if (!display.ok) {
      channel.destroy();
      return this.refuse(display.error);
    }
    display.value.write(setup);
    await this.carry(channel, display.value, `${c.origin.host}:${c.origin.port} (X client on the server)`, formatEndpoint(this.spec.target));
  }

  /** The client's connection setup with the real cookie in place of the fake one; undefined (and the channel closed) if it is not that. */
  private async readSetup(channel: Duplex): Promise<Buffer | undefined> {
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
      if (name.subarray(0, nameLen).toString("latin1") !== this.spec.protocol || !data.subarray(0, dataLen).equals(this.fake)) {
        channel.destroy();
        this.refuse(new FwdError("E_CHANNEL", `${this.id}: an X11 connection without the cookie the server was given`, "something on the server other than the command's X clients tried the display", { reason: "not-allowed" }));
        return undefined;
      }
      const swapped = Buffer.from(data);
      this.real.copy(swapped, 0);
      return Buffer.concat([head, name, swapped]);
    } catch {
      r.release();
      channel.destroy();
      this.refuse(new FwdError("E_CHANNEL", `${this.id}: an X11 client sent no connection setup in ${SETUP_MS / 1000}s`, "the X client on the server stalled", { reason: "bad-request" }));
      return undefined;
    }
  }
}
