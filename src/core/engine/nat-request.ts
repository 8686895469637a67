// What a NAT target asks for when the nat table runs on a connection's first packet. DNAT and SNAT
// give their range as is; MASQUERADE and REDIRECT name an address only the host knows (the out
// interface's source address, the in interface's address), filled in here.
import type { HostView } from "../host/host-view.ts";
import { NF_NAT_RANGE_MAP_IPS, type NatRange } from "../extensions/targets/nat-range.ts";
import type { PacketContext } from "./packet-context.ts";

export type NatRequest =
  | { readonly kind: "SNAT" | "DNAT"; readonly range: NatRange }
  | { readonly kind: "MASQUERADE"; readonly range: NatRange }
  | { readonly kind: "REDIRECT"; readonly range: NatRange };

const LOOPBACK = 0x7f000001;

/**
 * The range to bind with. For MASQUERADE, the address the kernel would pick as source on the out
 * interface towards the next hop (nf_nat_masquerade_ipv4); for REDIRECT, the in interface's first
 * address, or 127.0.0.1 for locally generated packets (nf_nat_redirect_ipv4). Null when there is
 * none (the kernel drops the packet).
 */
export function natRangeFor(request: NatRequest, ctx: PacketContext, host: HostView): NatRange | null {
  switch (request.kind) {
    case "SNAT":
    case "DNAT":
      return request.range;
    case "MASQUERADE": {
      const out = ctx.outInterface;
      if (out === null) return null;
      const route = host.route(ctx.destination);
      const address = host.selectSource(out, route ? route.nextHop : ctx.destination);
      if (address === null) return null;
      return { ...request.range, flags: request.range.flags | NF_NAT_RANGE_MAP_IPS, minAddr: address, maxAddr: address };
    }
    case "REDIRECT": {
      const address = ctx.hook === "OUTPUT" ? LOOPBACK : ctx.inInterface ? host.primaryAddress(ctx.inInterface) : null;
      if (address === null) return null;
      return { ...request.range, flags: request.range.flags | NF_NAT_RANGE_MAP_IPS, minAddr: address, maxAddr: address };
    }
  }
}
