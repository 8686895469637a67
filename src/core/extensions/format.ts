// Printing helpers shared by extensions, matching libxtables' output byte for byte.

const NO_QUOTE = /^[A-Za-z0-9_-]+$/;

/**
 * A string option as iptables-save prints it (xtables_save_string): bare when it is only
 * letters, digits, "_" and "-", else in double quotes with `"`, `\` and `'` escaped by a backslash.
 */
export function saveString(value: string): string {
  if (NO_QUOTE.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** "! " when inverted, as iptables-save puts it before an option. */
export function bang(inverted: boolean): string {
  return inverted ? "! " : "";
}
