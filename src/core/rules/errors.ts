// Errors of the rule language, with the exit codes iptables uses.

/** iptables' exit codes: 1 other problem, 2 parameter problem, 3 version problem, 4 resource/kernel problem. */
export const enum ExitCode {
  Other = 1,
  ParameterProblem = 2,
  VersionProblem = 3,
  ResourceProblem = 4,
}

/** A bad command line or rule: iptables prints it after its version prefix and adds the help hint. */
export class ParameterProblem extends Error {
  readonly exitCode = ExitCode.ParameterProblem;
  override readonly name = "ParameterProblem";
}

/**
 * A refusal that comes from the rule set itself (iptables prints "iptables: <message>", exit 1),
 * e.g. "Bad rule (does a matching rule exist in that chain?)."; iptables-restore prints the same
 * words as "iptables-restore: line N failed: <message>".
 */
export class RuleSetError extends Error {
  override readonly name = "RuleSetError";
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Other,
    /**
     * iptables answers EINVAL with " Run `dmesg' for more information." after the message (the
     * command line only; iptables-restore leaves it out).
     */
    readonly dmesgHint = false,
  ) {
    super(message);
  }
}

/**
 * A refusal the kernel would give when the table is committed (iptables-nft prints
 * " RULE_APPEND failed (Invalid argument): rule in chain X", exit 4): a target in a chain whose
 * hooks it cannot run in, a jump loop, and the like. `detail` says why, for people.
 */
export class KernelRefusal extends Error {
  readonly exitCode = ExitCode.ResourceProblem;
  override readonly name = "KernelRefusal";
  constructor(
    readonly operation: string,
    readonly errno: string,
    readonly object: string,
    readonly detail: string,
  ) {
    super(`${operation} failed (${errno}): ${object}`);
  }
}

/**
 * What iptables prints bare, without its version prefix, before the help hint (exit 2): "Bad
 * argument `X'" for a stray word, and nothing at all for `-6`.
 */
export class TryHelp extends Error {
  readonly exitCode = ExitCode.ParameterProblem;
  override readonly name = "TryHelp";
}

/**
 * An error iptables prints after its version prefix but without the help hint, with its own exit
 * code: e.g. "chain `X' in table `filter' is incompatible, use 'nft' tool." (exit 1).
 */
export class PrefixedProblem extends Error {
  override readonly name = "PrefixedProblem";
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Other,
  ) {
    super(message);
  }
}

/**
 * A command that failed after it had already printed something on stdout (`-L -Z` lists, then
 * fails to zero; `-A -v` prints the rule, then finds no chain): both reach the user.
 */
export class FailedAfterOutput extends Error {
  override readonly name = "FailedAfterOutput";
  constructor(
    readonly stdout: string,
    override readonly cause: Error,
  ) {
    super(cause.message);
  }
}
