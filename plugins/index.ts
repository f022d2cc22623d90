// The built-in plugins, imported statically so `bun build --compile` embeds them.

import type { Plugin } from "../src/plugin/types.ts";
import intranetWiki from "./intranet-wiki.ts";
import mysqlViaBastion from "./mysql-via-bastion.ts";

export const BUILTIN_PLUGINS: Plugin[] = [mysqlViaBastion, intranetWiki] as unknown as Plugin[];
