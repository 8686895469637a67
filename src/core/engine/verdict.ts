// The numbers netfilter's hooks and x_tables targets answer with (uapi netfilter.h, x_tables.h).
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_STOLEN = 2;
/** XT_CONTINUE: a target that does not decide (MARK, LOG, ...) lets the walk go on. */
export const XT_CONTINUE = -1;
/** XT_RETURN: back to the calling chain. */
export const XT_RETURN = -5;

export function verdictName(verdict: number): string {
  switch (verdict) {
    case NF_DROP:
      return "DROP";
    case NF_ACCEPT:
      return "ACCEPT";
    case NF_STOLEN:
      return "STOLEN";
    case XT_CONTINUE:
      return "CONTINUE";
    case XT_RETURN:
      return "RETURN";
    default:
      return `VERDICT(${verdict})`;
  }
}
