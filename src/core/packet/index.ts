// Zero-copy IPv4/TCP/UDP/ICMP packet views, checksums and a packet builder.
export * from "./checksum.ts";
export * from "./view.ts";
export * from "./ipv4.ts";
export * from "./tcp.ts";
export * from "./udp.ts";
export * from "./icmp.ts";
export * from "./builder.ts";
