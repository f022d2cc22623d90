// Where a user's fwd files live: $XDG_CONFIG_HOME/fwd (or ~/.config/fwd), with plugins/ and
// scenarios/ inside.

import { homedir } from "node:os";
import { join } from "node:path";

export function configDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith("/") ? xdg : join(process.env.HOME || homedir(), ".config"), "fwd");
}
