// The benchmark's target, run as its own process so the load generator does not share an event loop
// with it: a TCP_NODELAY echo server on a free loopback port, which it prints on stdout. Every byte is
// echoed; the client's FIN is answered with a FIN once the echo is out. Exits when stdin closes.

import net from "node:net";

const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.setNoDelay(true);
  s.on("error", () => {});
  s.pipe(s);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
// The parent holds our stdin: when it goes (even killed), so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
