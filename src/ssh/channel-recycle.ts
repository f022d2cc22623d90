// Teaches ssh2's channels the two halves of fwd's buffer recycling (src/engine/pipe.ts):
// - as a writer, a channel holds nothing of a write once its callback has run: ssh2 copies the
//   bytes into packets (Protocol.channelData: encrypted into the packet, or copied first when a key
//   exchange or compression is on) and keeps only its own; so a local socket's read buffer can be
//   freed once the channel has taken it all;
// - as a source, a channel's data is a view of the packet it came in, which fwd's AES-GCM decrypts
//   into memory of a pool (src/runtime/packet-pool.ts): once that data is written on, the packet's
//   memory carries the next. Data in any other memory (another cipher's, a decompressed packet's)
//   is ignored and left to the collector. What a reader gives back by unshift() (the reverse SOCKS
//   and X11 handshakes' leftovers) is never reused: the reader may still hold views of that packet.
// Set on the prototype once, not on each channel: the shape stays the same for every channel.

// @ts-ignore: tsc finds no type declarations for it; Deno infers types from the JS (so not @ts-expect-error)
import * as ssh2Channel from "ssh2/lib/Channel.js";
import { forgetInbound, recycleInbound } from "../runtime/packet-pool.ts";

let done = false;

export function recycleThroughChannels(): void {
  if (done) return;
  done = true;
  const proto = (ssh2Channel as unknown as { Channel?: { prototype: { unshift?: (chunk: Uint8Array) => void } } }).Channel?.prototype;
  if (!proto || typeof proto.unshift !== "function") return;
  const unshift = proto.unshift;
  Object.defineProperties(proto, {
    releasesWritten: { value: true, configurable: true },
    recycle: { value: recycleInbound, configurable: true, writable: true },
    unshift: {
      value(this: unknown, chunk: Uint8Array, ...rest: unknown[]) {
        if (chunk instanceof Uint8Array) forgetInbound(chunk);
        return (unshift as (...a: unknown[]) => void).call(this, chunk, ...rest);
      },
      configurable: true,
      writable: true,
    },
  });
}
