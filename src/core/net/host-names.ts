// The few names iptables finds for IPv4 addresses without asking DNS: /etc/hosts and
// /etc/networks as Debian ships them. `-s localhost` and `-d loopback/8` parse, and `iptables -L`
// (without -n) prints 127.0.0.1 as "localhost" and 127.0.0.0/8 as "loopback/8", as on such a host.
//
// uptables never resolves names through DNS: a name not listed here is refused with iptables'
// own "host/network `NAME' not found" (what iptables says too when DNS does not answer), and
// `iptables -L` prints the number where iptables would print the reverse-DNS name.

/** /etc/hosts (IPv4 part): name -> address; the first name of an address is its canonical name. */
const HOSTS: ReadonlyArray<readonly [name: string, addr: number]> = [["localhost", 0x7f000001]];

/** /etc/networks: name -> network number (getnetbyname / getnetbyaddr). */
const NETWORKS: ReadonlyArray<readonly [name: string, net: number]> = [
  ["default", 0x00000000],
  ["loopback", 0x7f000000],
  ["link-local", 0xa9fe0000],
];

/** gethostbyname for an IPv4 host: its addresses, or null when the name is unknown. */
export function hostAddresses(name: string): number[] | null {
  const found = HOSTS.filter(([n]) => n === name).map(([, addr]) => addr);
  return found.length > 0 ? found : null;
}

/** getnetbyname: the network number, or null. */
export function networkAddress(name: string): number | null {
  return NETWORKS.find(([n]) => n === name)?.[1] ?? null;
}

/** gethostbyaddr: the host's name, or null. */
export function hostName(addr: number): string | null {
  return HOSTS.find(([, a]) => a === addr)?.[0] ?? null;
}

/** getnetbyaddr: the network's name, or null. */
export function networkName(net: number): string | null {
  return NETWORKS.find(([, n]) => n === net)?.[0] ?? null;
}
