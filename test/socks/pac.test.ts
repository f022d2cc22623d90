// Which Host headers the PAC file is served to: this proxy's own names and addresses only, so a page
// on a DNS name rebound to 127.0.0.1 cannot read the list of intranet domains.

import { expect, test } from "bun:test";
import { pacHostOk } from "../../src/socks/pac.ts";

const AT = {
  here: { local: "127.0.0.1", bind: "127.0.0.1", port: 1080 },
  lan: { local: "::ffff:192.168.1.5", bind: "proxy.lan", port: 1080 },
};
const [here, lan] = ["here", "lan"] as const;

test.each([
  ["127.0.0.1:1080", here, true],
  ["localhost:1080", here, true],
  ["localhost", here, true],
  ["[::1]:1080", here, true],
  ["127.0.0.2:1080", here, true],
  ["192.168.1.5:1080", lan, true],
  ["proxy.lan:1080", lan, true],
  ["evil.example:1080", here, false],
  ["evil.example", here, false],
  ["localhost.evil.example:1080", here, false],
  ["127.0.0.1:1081", here, false],
  ["192.168.1.5:1080", here, false],
  ["", here, false],
  ["127.0.0.1:1080:1", here, false],
])("Host %p, proxy %s → %p", (header, at, ok) => {
  expect(pacHostOk(header, AT[at])).toBe(ok);
});
