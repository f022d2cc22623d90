// Forward kind → the module that carries it out. Adding a kind is a file with its ForwardKindModule
// and one row here (X11 was added so: x11-forward.ts and the `x11` row).

import { fail, type Result } from "../errors.ts";
import type { ForwardKind, ForwardSpec } from "../vocab/forward.ts";
import { dynamicKind } from "./dynamic-forward.ts";
import type { ForwardContext, Forwarder, ForwardKindModule } from "./forwarder.ts";
import { localKind } from "./local-forward.ts";
import { remoteKind } from "./remote-forward.ts";
import { routeKind } from "./route-forward.ts";
import { x11Kind } from "./x11-forward.ts";

type KindTable = { [K in ForwardKind]: ForwardKindModule<Extract<ForwardSpec, { kind: K }>> };

const KINDS: KindTable = {
  local: localKind,
  remote: remoteKind,
  dynamic: dynamicKind,
  route: routeKind,
  x11: x11Kind,
};

const moduleOf = (spec: ForwardSpec) => KINDS[spec.kind] as ForwardKindModule<ForwardSpec>;

/** The spec's own problem (the open-proxy rule among them), or undefined when it may start. */
export const validateForward = (spec: ForwardSpec) => moduleOf(spec).validate(spec);

export function createForwarder(spec: ForwardSpec, ctx: ForwardContext): Result<Forwarder> {
  const bad = validateForward(spec);
  return bad ? fail(bad) : moduleOf(spec).create(spec, ctx);
}
