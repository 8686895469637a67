// ICMP redirects, as ip_forward sends them (net/ipv4/route.c: __mkroute_input decides,
// ip_rt_send_redirect rate-limits, icmp_send builds). A router that forwards a packet back out of
// the interface it came in on tells the sender to use the next hop directly: a host redirect
// (type 5, code 1) carrying that next hop. The packet itself is still forwarded.
import type { HostView } from "../host/host-view.ts";

/** ICMP_REDIR_HOST: the code Linux always sends. */
export const ICMP_REDIR_HOST = 1;

/** ip_rt_redirect_number: after this many redirects a peer that ignores them gets no more. */
export const REDIRECT_NUMBER = 9;
/** ip_rt_redirect_load (HZ/50): the first gap between redirects, doubled after each one. */
export const REDIRECT_LOAD_MS = 20;
/** ip_rt_redirect_silence ((HZ/50) << (9 + 1)): a peer quiet this long starts afresh. */
export const REDIRECT_SILENCE_MS = REDIRECT_LOAD_MS << (REDIRECT_NUMBER + 1);
/** Peers remembered at most; past this, those quiet for REDIRECT_SILENCE_MS are forgotten (inet_peer's gc). */
const MAX_PEERS = 65536;

/**
 * __mkroute_input's IPSKB_DOREDIRECT: the packet leaves by the interface it came in on, that
 * interface sends redirects (conf/all or conf/<if>), and the sender is on the link (its way back is
 * a connected route out of the same interface: fib_validate_source's answer). shared_media is taken
 * as on (the kernel's default), so the sender and the next hop need not share a subnet.
 */
export function redirectWanted(host: HostView, inInterface: string, outInterface: string, source: number): boolean {
  return inInterface === outInterface && host.sendsRedirects(inInterface) && host.sourceOnLink(source, inInterface);
}

interface Peer {
  /** n_redirects: redirects sent since the peer was last quiet. */
  sent: number;
  /** rate_last: when the last redirect was sent (or refused once the number was reached). */
  last: number;
}

/**
 * ip_rt_send_redirect's limit, per sender (its inet_peer): the first redirect goes at once, the next
 * ones only after 20 ms, 40 ms, 80 ms ... since the previous one, none after the ninth; a sender that
 * needed none for ~20 s starts afresh. Times are the engine's clock in milliseconds.
 */
export class RedirectLimiter {
  private readonly peers = new Map<number, Peer>();

  /** Whether a redirect to `source` may be sent now; counts it when so. */
  allow(source: number, now: number): boolean {
    let peer = this.peers.get(source);
    if (peer === undefined) {
      if (this.peers.size >= MAX_PEERS) this.forgetQuiet(now);
      peer = { sent: 0, last: now };
      this.peers.set(source, peer);
    }
    if (now > peer.last + REDIRECT_SILENCE_MS) peer.sent = 0;
    if (peer.sent >= REDIRECT_NUMBER) {
      // The peer ignores redirects: stay silent, and measure the silence from this packet.
      peer.last = now;
      return false;
    }
    if (peer.sent === 0 || now > peer.last + (REDIRECT_LOAD_MS << peer.sent)) {
      peer.last = now;
      peer.sent++;
      return true;
    }
    return false;
  }

  private forgetQuiet(now: number): void {
    for (const [source, peer] of this.peers) if (now > peer.last + REDIRECT_SILENCE_MS) this.peers.delete(source);
    // Still full (a flood of senders): forget them all rather than grow without bound.
    if (this.peers.size >= MAX_PEERS) this.peers.clear();
  }
}
