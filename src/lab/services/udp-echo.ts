// The lab's UDP echo: sends every datagram back, prefixed with "peer ADDRESS:PORT " (the peer it saw).
import { createSocket } from "node:dgram";
import { announce, listenArgs, peerText } from "./listen-args.ts";

const { port, address } = listenArgs("udp-echo");
const socket = createSocket("udp4");
socket.on("message", (data, from) => {
  socket.send(Buffer.concat([Buffer.from(`peer ${peerText(from.address, from.port)} `), data]), from.port, from.address);
});
socket.bind(port, address, () => announce("udp-echo", address, port));
