// The lab's HTTP service: answers every request with 200 and the body "peer ADDRESS:PORT", the
// peer it saw, which is how a probe observes NAT from the server's side.
import { createServer } from "node:http";
import { announce, listenArgs, peerText } from "./listen-args.ts";

const { port, address } = listenArgs("http");
const server = createServer((request, response) => {
  const body = `peer ${peerText(request.socket.remoteAddress, request.socket.remotePort)}\n`;
  response.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body), connection: "close" });
  response.end(body);
});
server.listen(port, address, () => announce("http", address, port));
