// The built-in plugins, imported statically so `bun build --compile` embeds them.

import type { Plugin } from "../src/plugin/types.ts";
import browserIntranet from "./browser-intranet.ts";
import devDbToCloud from "./dev-db-to-cloud.ts";
import egressIpRotation from "./egress-ip-rotation.ts";
import exposeLocalWeb from "./expose-local-web.ts";
import homeSsh from "./home-ssh.ts";
import intranetWiki from "./intranet-wiki.ts";
import lanEgress from "./lan-egress.ts";
import lanGateway from "./lan-gateway.ts";
import mysqlViaBastion from "./mysql-via-bastion.ts";
import rdpHome from "./rdp-home.ts";
import remoteDesktopViaBastion from "./remote-desktop-via-bastion.ts";
import secureLegacy from "./secure-legacy.ts";
import sshViaBastion from "./ssh-via-bastion.ts";

// Each plugin's own options type is erased here: the registry hands options it validated itself.
// In the order of the seed's catalogue: local, remote, dynamic forwarding.
export const BUILTIN_PLUGINS: Plugin[] = [
  sshViaBastion,
  mysqlViaBastion,
  intranetWiki,
  remoteDesktopViaBastion,
  secureLegacy,
  exposeLocalWeb,
  homeSsh,
  rdpHome,
  devDbToCloud,
  browserIntranet,
  lanEgress,
  lanGateway,
  egressIpRotation,
] as unknown as Plugin[];
