// The built-in plugins, imported statically so `bun build --compile` embeds them.

import type { Plugin } from "../src/plugin/types.ts";
import egressIpRotation from "./egress-ip-rotation.ts";
import intranetWiki from "./intranet-wiki.ts";
import mysqlViaBastion from "./mysql-via-bastion.ts";
import rdpHome from "./rdp-home.ts";

// Each plugin's own options type is erased here: the registry hands options it validated itself.
export const BUILTIN_PLUGINS: Plugin[] = [mysqlViaBastion, intranetWiki, rdpHome, egressIpRotation] as unknown as Plugin[];
