// uptables' version, and the tag iptables puts before its messages ("iptables v1.8.9 (nf_tables)").

export const VERSION = "0.1.0";
/** Where iptables says "(nf_tables)" or "(legacy)", uptables names its own backend. */
export const BACKEND = "userspace";

/** "uptables v0.1.0 (userspace)": what -V prints and what error messages start with. */
export function versionTag(program: string): string {
  return `${program} v${VERSION} (${BACKEND})`;
}
