// A Prompter on the controlling terminal, with echo off for secrets; none when stdin is no terminal,
// so a script or a service fails at once with a clear reason instead of waiting for an answer.

import { createInterface } from "node:readline";
import type { Prompter } from "../ssh/prompt.ts";

export function ttyPrompter(batchMode: boolean): Prompter | undefined {
  if (batchMode || !process.stdin.isTTY) return undefined;
  return (question, { secret }) =>
    new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      if (secret) {
        // readline echoes through _writeToOutput; show the question, hide what is typed.
        const w = rl as unknown as { _writeToOutput: (s: string) => void };
        w._writeToOutput = (s: string) => {
          if (s.startsWith(question)) process.stderr.write(question);
        };
      }
      rl.question(question, (answer) => {
        if (secret) process.stderr.write("\n");
        rl.close();
        resolve(answer);
      });
      rl.once("SIGINT", () => {
        rl.close();
        resolve(undefined);
      });
    });
}
