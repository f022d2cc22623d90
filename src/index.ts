// The one public plugin API: everything a built-in plugin uses, and so everything a user's plugin can
// use. Built-ins import only this file (test/plugin/public-api.test.ts checks it), and the
// fwd-plugin.d.ts that `fwd plugin new` writes is generated from it (scripts/plugin-dts.ts).
// A plugin file outside this repository gets the runtime values as its default export's argument
// (`fwdApi`, handed to plugin/load.ts by the CLI), so it needs no import that a standalone binary
// would have to resolve.

import * as v from "valibot";
import { allowList, parseCidr, isIpv4Cidr, networkOf } from "./vocab/cidr.ts";
import { reachableHost } from "./vocab/endpoint.ts";
import { greeting, httpLine, httpTitle, mysqlGreeting, postgresSsl, rdpConfirm, socks5Hello, vncBanner } from "./plugin/probes.ts";
import { Hop, Listen, parseHttpUrl, Target, withIdentity } from "./plugin/schemas.ts";
import { parseHop, parseHostPort, parseListen } from "./vocab/address.ts";
import type { OptionsSchema, Plugin } from "./plugin/types.ts";

/** Returns its argument; it exists so that a plugin's options type flows into plan, probe and usage. */
export function definePlugin<S extends OptionsSchema>(plugin: Plugin<S>): Plugin<S> {
  return plugin;
}

export { v, Hop, Listen, Target };
export { parseHop, parseHostPort, parseHttpUrl, parseListen, withIdentity };
export { greeting, httpLine, httpTitle, mysqlGreeting, postgresSsl, rdpConfirm, socks5Hello, vncBanner };
export { allowList, parseCidr, isIpv4Cidr, networkOf, reachableHost };
export type { BoundForward, OptionsSchema, Plan, PlanForward, Plugin, ProbeContext, ProbeResult, Route } from "./plugin/types.ts";
export type { Hop as HopValue } from "./vocab/address.ts";

/** The argument a plugin file's default-exported function receives: every runtime value above. */
export const fwdApi = {
  definePlugin, v, Hop, Listen, Target,
  parseHop, parseHostPort, parseHttpUrl, parseListen, withIdentity,
  greeting, httpLine, httpTitle, mysqlGreeting, postgresSsl, rdpConfirm, socks5Hello, vncBanner,
  allowList, parseCidr, isIpv4Cidr, networkOf, reachableHost,
};
export type FwdApi = typeof fwdApi;
