// The five netfilter hooks of IPv4, named as in the kernel (NF_INET_*) and in iptables' built-in chains.
export const HOOKS = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"] as const;
export type Hook = (typeof HOOKS)[number];

export function isHook(name: string): name is Hook {
  return (HOOKS as readonly string[]).includes(name);
}
