// A second local user for tests run as root: a Python script run as uid nobody (runuser), whose
// sockets the kernel counts as that user's. The script runs until its stdin closes, so stopping it
// never depends on a signal reaching through runuser.

import { spawn, type ChildProcess } from "node:child_process";

export interface OtherUser {
  proc: ChildProcess;
  /** What it printed so far. */
  said(): string;
  /** Closes its stdin and waits for it to exit (killed after 5 s). */
  stop(): Promise<void>;
}

/** Runs `py` as nobody and resolves once its output matches `ready`; rejects if it exits first or takes over 10 s. */
export async function asNobody(py: string, ready: RegExp): Promise<OtherUser> {
  const script = `import os,sys,threading
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
${py}
threading.Event().wait()`;
  const proc = spawn("runuser", ["-u", "nobody", "--", "python3", "-c", script], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const user: OtherUser = {
    proc,
    said: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin!.end();
      const t = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`as nobody: no ${ready} within 10 s: ${out}`)), 10_000);
    proc.stdout!.on("data", () => ready.test(out) && (clearTimeout(t), resolve()));
    void exited.then(() => (clearTimeout(t), reject(new Error(`as nobody: exited before ${ready}: ${out}`))));
  }).catch(async (e) => {
    await user.stop();
    throw e;
  });
  return user;
}

/**
 * A TCP relay run by nobody: what connects to its port is carried to 127.0.0.1:`port` over a
 * connection nobody opened, so a test's client counts there as the other user's.
 */
export async function relayAsNobody(port: number): Promise<OtherUser & { port: number }> {
  const py = `import socket
def pump(a,b):
  try:
    while True:
      d=a.recv(65536)
      if not d: break
      b.sendall(d)
  except OSError: pass
  try: b.shutdown(socket.SHUT_WR)
  except OSError: pass
def serve(c):
  u=socket.create_connection(("127.0.0.1",${port}))
  t=threading.Thread(target=pump,args=(u,c),daemon=True); t.start()
  pump(c,u); t.join(); c.close(); u.close()
def accept(ls):
  while True:
    c,_=ls.accept(); threading.Thread(target=serve,args=(c,),daemon=True).start()
ls=socket.socket(); ls.bind(("127.0.0.1",0)); ls.listen(64)
threading.Thread(target=accept,args=(ls,),daemon=True).start()
print("relay",ls.getsockname()[1],flush=True)`;
  const user = await asNobody(py, /relay \d+\n/);
  const m = /relay (\d+)/.exec(user.said());
  return { ...user, port: Number(m![1]) };
}
