// The five netfilter hooks of IPv4, named as in the kernel (NF_INET_*) and in iptables' built-in chains.
export const HOOKS = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"] as const;
export type Hook = (typeof HOOKS)[number];

export function isHook(name: string): name is Hook {
  return (HOOKS as readonly string[]).includes(name);
}

/** The hook's position in HOOKS (the kernel's NF_INET_* number), for array-indexed look-ups. */
export const HOOK_INDEX: Readonly<Record<Hook, number>> = { PREROUTING: 0, INPUT: 1, FORWARD: 2, OUTPUT: 3, POSTROUTING: 4 };
