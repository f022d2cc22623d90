// What plugin authors import: definePlugin, valibot, the shared option schemas and the types.
// A plugin file outside this repository gets these as its default export's argument instead (see
// plugin/load.ts), so it needs no import that a standalone binary would have to resolve.

import * as v from "valibot";
import { Hop, Listen, Target } from "./plugin/schemas.ts";
import type { OptionsSchema, Plugin } from "./plugin/types.ts";

/** Returns its argument; it exists so that a plugin's options type flows into plan, probe and usage. */
export function definePlugin<S extends OptionsSchema>(plugin: Plugin<S>): Plugin<S> {
  return plugin;
}

export { v, Hop, Listen, Target };
export type { BoundForward, Hop as HopValue, Plan, PlanForward, Plugin, ProbeContext, ProbeResult, Route } from "./plugin/types.ts";

/** The argument a plugin file's default-exported function receives. */
export const fwdApi = { definePlugin, v, Hop, Listen, Target };
export type FwdApi = typeof fwdApi;
