// The benchmark's lab: Docker's default bridge with a published port, in three namespaces.
//
//   client 192.168.0.50 --veth-- eth0 192.168.0.100 [host] docker0 172.17.0.1/16 --bridge-- server 172.17.0.2
//
// The host runs Docker's default rule set (lab/rulesets/docker-27-default.rules: host 8080 ->
// 172.17.0.2:80) plus rules of the same shape for the benchmark's other ports, so every test
// crosses DNAT in PREROUTING, Docker's FORWARD chains and conntrack:
//
//   host 5201/tcp+udp -> 172.17.0.2:5201 (iperf3)   host 8080/tcp -> :80 (connections)
//   host 7007/udp -> 172.17.0.2:7 (UDP echo, round trips)
import { DOCKER_DEFAULT_RULES } from "../docker-rules.ts";
import { BenchError, type BenchNamespaces } from "./namespaces.ts";

export const CLIENT_ADDRESS = "192.168.0.50";
export const HOST_ADDRESS = "192.168.0.100";
export const SERVER_ADDRESS = "172.17.0.2";

/** Where each test sends its traffic: the published ports, or the server itself (no NAT). */
export interface Targets {
  iperf: { host: string; port: number };
  connect: string;
  echo: string;
}

export const PUBLISHED: Targets = { iperf: { host: HOST_ADDRESS, port: 5201 }, connect: `${HOST_ADDRESS}:8080`, echo: `${HOST_ADDRESS}:7007` };
export const DIRECT: Targets = { iperf: { host: SERVER_ADDRESS, port: 5201 }, connect: `${SERVER_ADDRESS}:80`, echo: `${SERVER_ADDRESS}:7` };

/** The server's ports behind the published ones. */
export const SERVER_PORTS = { iperf: 5201, tcp: 80, udp: 7 };

const PUBLISHED_DNAT = "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80";
const PUBLISHED_ACCEPT = "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT";

/** Docker's default rules plus the benchmark's extra published ports, as an iptables-save file. */
export function benchRules(): string {
  const extraDnat = [
    "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5201 -j DNAT --to-destination 172.17.0.2:5201",
    "-A DOCKER ! -i docker0 -p udp -m udp --dport 5201 -j DNAT --to-destination 172.17.0.2:5201",
    "-A DOCKER ! -i docker0 -p udp -m udp --dport 7007 -j DNAT --to-destination 172.17.0.2:7",
  ];
  const extraAccept = [
    "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5201 -j ACCEPT",
    "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 5201 -j ACCEPT",
    "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 7 -j ACCEPT",
  ];
  if (!DOCKER_DEFAULT_RULES.includes(PUBLISHED_DNAT) || !DOCKER_DEFAULT_RULES.includes(PUBLISHED_ACCEPT)) {
    throw new BenchError("lab/rulesets/docker-27-default.rules no longer publishes 8080 -> 172.17.0.2:80 as the benchmark expects");
  }
  return DOCKER_DEFAULT_RULES.replace(PUBLISHED_DNAT, [PUBLISHED_DNAT, ...extraDnat].join("\n")).replace(
    PUBLISHED_ACCEPT,
    [PUBLISHED_ACCEPT, ...extraAccept].join("\n"),
  );
}

export interface Lab {
  client: string;
  host: string;
  server: string;
}

/** Builds the three namespaces, links and addresses (no rules yet). */
export function buildLab(ns: BenchNamespaces): Lab {
  const lab: Lab = { client: ns.create("client"), host: ns.create("host"), server: ns.create("server") };
  const script = (where: string, text: string): void => void ns.exec(where, ["bash", "-c", `set -e\n${text}`]);
  script(
    lab.host,
    `ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
ip link add vethsrv type veth peer name eth0 netns ${lab.server}
ip link set vethsrv master docker0 up
ip link add eth0 type veth peer name eth0 netns ${lab.client}
ip addr add ${HOST_ADDRESS}/24 dev eth0
ip link set eth0 up
sysctl -qw net.ipv4.ip_forward=1`,
  );
  script(lab.server, `ip addr add ${SERVER_ADDRESS}/16 dev eth0\nip link set eth0 up\nip route add default via 172.17.0.1`);
  script(lab.client, `ip addr add ${CLIENT_ADDRESS}/24 dev eth0\nip link set eth0 up\nip route add default via ${HOST_ADDRESS}`);
  return lab;
}

export const REFLECTOR_TUN = "upt-refl0";

/**
 * The reflector's routing in the host namespace (the datapath recipe without NAT): everything
 * arriving on eth0 or docker0 goes into the TUN, and what the reflector writes back is forwarded.
 */
export function divertIntoReflector(ns: BenchNamespaces, host: string): void {
  ns.exec(host, [
    "bash",
    "-c",
    `set -e
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.all.send_redirects=0
sysctl -qw net.ipv4.conf.${REFLECTOR_TUN}.rp_filter=0 net.ipv4.conf.${REFLECTOR_TUN}.accept_local=1 net.ipv4.conf.${REFLECTOR_TUN}.send_redirects=0
ip link set ${REFLECTOR_TUN} up
ip route add default dev ${REFLECTOR_TUN} table 100
ip rule add pref 10 iif eth0 lookup 100
ip rule add pref 11 iif docker0 lookup 100`,
  ]);
}
