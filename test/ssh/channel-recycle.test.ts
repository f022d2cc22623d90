// ssh2's channels as fwd teaches them (src/ssh/channel-recycle.ts): a writer that lets go of what it
// was given, a source that gives a pooled packet back — except one a reader gave back by unshift(),
// whose views that reader may still hold (the reverse SOCKS and X11 handshakes' leftovers).

import { expect, test } from "bun:test";
// @ts-ignore: plain JS without type declarations
import * as ssh2Channel from "ssh2/lib/Channel.js";
import { recycleThroughChannels } from "../../src/ssh/channel-recycle.ts";
import { freeInbound, takeInbound } from "../../src/runtime/packet-pool.ts";

type Ch = { releasesWritten?: boolean; recycle(c: Uint8Array): void; unshift(c: Uint8Array): void; read(): Buffer | null };
const { Channel } = ssh2Channel as unknown as { Channel: new (client: unknown, info: unknown) => Ch };

const channel = () => {
  const side = { id: 0, window: 0, packetSize: 32768, state: "open" };
  return new Channel({ _protocol: {} }, { type: "direct-tcpip", incoming: { ...side }, outgoing: { ...side } });
};

test("a channel says it lets go of what it was written, and gives a pooled packet back", () => {
  recycleThroughChannels();
  const ch = channel();
  expect(ch.releasesWritten).toBe(true);
  const packet = takeInbound(8192);
  const before = freeInbound();
  ch.recycle(packet.subarray(9, 4000)); // its channel data: any view of the packet
  expect(freeInbound()).toBe(before + 1);
  takeInbound(8192); // back out, for the next test's count
});

test("a packet that a reader gave back by unshift() is never reused, and what it gave back is read in order", () => {
  recycleThroughChannels();
  const ch = channel();
  const packet = takeInbound(8192).fill(7);
  const leftover = packet.subarray(100, 200);
  const before = freeInbound();
  ch.unshift(leftover);
  ch.recycle(leftover);
  expect(freeInbound()).toBe(before);
  expect(ch.read()!.equals(Buffer.alloc(100, 7))).toBe(true);
});
