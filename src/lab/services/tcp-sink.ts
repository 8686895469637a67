// The lab's TCP sink: writes "peer ADDRESS:PORT\n" (the peer it saw), then reads until the client
// closes, then closes too.
import { createServer } from "node:net";
import { announce, listenArgs, peerText } from "./listen-args.ts";

const { port, address } = listenArgs("tcp-sink");
const server = createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.write(`peer ${peerText(socket.remoteAddress, socket.remotePort)}\n`);
  socket.on("data", () => undefined);
  socket.on("end", () => socket.end());
});
server.listen(port, address, () => announce("tcp-sink", address, port));
