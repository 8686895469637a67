// What the fuzzers start from: the shared corpus read once (rule lines as argv, whole restore files,
// rule sets built from them) and a vocabulary of every word iptables knows plus words it must refuse.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ALL_MATCHES } from "../../src/core/extensions/matches/index.ts";
import { ALL_TARGETS } from "../../src/core/extensions/targets/index.ts";
import { splitRestoreLine } from "../../src/core/iptables/argv.ts";
import { restore } from "../../src/core/iptables/restore.ts";
import { RuleSet } from "../../src/core/rules/model.ts";
import { BUILTIN_CHAINS, TABLE_NAMES } from "../../src/core/rules/tables.ts";
import { corpusFiles, parseTFile, REPO_ROOT, shellWords } from "../support/corpus.ts";

/** A whole iptables-save text of the corpus. */
export interface RestoreText {
  readonly name: string;
  readonly text: string;
}

/** One rule line of the corpus as an iptables command line. */
export interface CorpusCommand {
  /** The restore text it comes from (index into `restoreTexts`), or -1 (a .t line). */
  readonly source: number;
  readonly argv: readonly string[];
}

export interface FuzzCorpus {
  readonly restoreTexts: readonly RestoreText[];
  /** `restoreTexts` restored (counters kept), to clone from; index matches. */
  readonly ruleSets: readonly RuleSet[];
  readonly commands: readonly CorpusCommand[];
  /** Every word the corpus uses (option values, chain names, ...), deduplicated. */
  readonly corpusWords: readonly string[];
  /** Per long option, the argument word lists it took in the corpus. */
  readonly valuesOf: ReadonlyMap<string, readonly (readonly string[])[]>;
}

let cached: FuzzCorpus | null = null;

/** Docker 27's default rule set (the file moved from test/fixtures/rules to lab/rulesets). */
export function dockerRulesPath(): string {
  for (const rel of ["lab/rulesets/docker-27-default.rules", "test/fixtures/rules/docker-27-default.rules"]) {
    const path = join(REPO_ROOT, rel);
    if (existsSync(path)) return path;
  }
  throw new Error("docker-27-default.rules not found under lab/rulesets or test/fixtures/rules");
}

export function loadFuzzCorpus(): FuzzCorpus {
  if (cached) return cached;
  const restoreTexts: RestoreText[] = [];
  const add = (path: string): void => {
    restoreTexts.push({ name: basename(path), text: readFileSync(path, "utf8") });
  };
  add(dockerRulesPath());
  for (const f of corpusFiles("docker/iptabler", ".rules")) add(f);
  for (const f of corpusFiles("real-world")) add(f);
  // The .t files as restore texts: every OK line appended to each of its chains, one table per file part.
  const tCommands: string[][] = [];
  for (const file of corpusFiles("iptables-t", ".t")) {
    const byTable = new Map<string, string[]>();
    for (const line of parseTFile(file)) {
      if (line.variant === "LEGACY") continue;
      for (const chain of line.chains) {
        const words = shellWords(line.rule);
        tCommands.push(["-t", line.table, "-A", chain, ...words]);
        if (line.result !== "OK") continue;
        const lines = byTable.get(line.table) ?? [];
        // Quote words as iptables-restore reads them.
        lines.push(`-A ${chain} ${words.map(quoteForRestore).join(" ")}`);
        byTable.set(line.table, lines);
      }
    }
    let text = "";
    for (const [table, lines] of byTable) {
      if (!(TABLE_NAMES as readonly string[]).includes(table)) continue;
      text += `*${table}\n`;
      for (const chain of BUILTIN_CHAINS[table as keyof typeof BUILTIN_CHAINS]) text += `:${chain} ACCEPT [0:0]\n`;
      text += lines.join("\n") + "\nCOMMIT\n";
    }
    if (text !== "") restoreTexts.push({ name: basename(file), text });
  }

  const ruleSets: RuleSet[] = [];
  const usable: RestoreText[] = [];
  for (const t of restoreTexts) {
    const rules = new RuleSet();
    try {
      restore(rules, t.text, { counters: true });
    } catch {
      // A .t file whose OK lines do not all restore together (a line needing a chain of another
      // line's table...): still a good mutation seed, but no base state.
      usable.push(t);
      ruleSets.push(new RuleSet());
      continue;
    }
    usable.push(t);
    ruleSets.push(rules);
  }

  const commands: CorpusCommand[] = [];
  usable.forEach((t, index) => {
    let table = "filter";
    for (const raw of t.text.split("\n")) {
      const line = raw.trim();
      if (line.startsWith("*")) table = line.slice(1);
      else if (line.startsWith(":")) {
        const [name, policy] = line.slice(1).split(/\s+/);
        if (name && policy === "-") commands.push({ source: index, argv: ["-t", table, "-N", name] });
        else if (name && policy) commands.push({ source: index, argv: ["-t", table, "-P", name, policy] });
      } else if (line.startsWith("-") || line.startsWith("[")) {
        try {
          const words = splitRestoreLine(line.replace(/^\[\d+:\d+\]\s+/, ""));
          commands.push({ source: index, argv: ["-t", table, ...words] });
        } catch {
          // unbalanced quote in the corpus: not a command
        }
      }
    }
  });
  for (const argv of tCommands) commands.push({ source: -1, argv });

  const words = new Set<string>();
  const valuesOf = new Map<string, Set<string>>();
  for (const c of commands) {
    c.argv.forEach((w, i) => {
      words.add(w);
      if (!w.startsWith("--")) return;
      // The words an option took in the corpus (one, or two for --tcp-flags MASK COMP).
      const taken: string[] = [];
      for (let j = i + 1; j < c.argv.length && taken.length < 2 && !c.argv[j]!.startsWith("-") && c.argv[j] !== "!"; j++) taken.push(c.argv[j]!);
      if (taken.length === 0) return;
      const set = valuesOf.get(w) ?? new Set();
      set.add(JSON.stringify(taken));
      valuesOf.set(w, set);
    });
  }
  cached = {
    restoreTexts: usable,
    ruleSets,
    commands,
    corpusWords: [...words].sort(),
    valuesOf: new Map([...valuesOf].map(([k, v]) => [k, [...v].map((x) => JSON.parse(x) as string[])])),
  };
  return cached;
}

/** A word as iptables-restore reads it back (quoted when it has blanks, quotes or backslashes). */
export function quoteForRestore(word: string): string {
  if (word !== "" && !/["\\\s]/.test(word)) return word;
  return `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

// ---- the vocabulary --------------------------------------------------------------------------------

const BUILTIN_SHORT = "ACDEFILMNPVXZcdijopstRSWfghmnvwx460".split("").map((c) => `-${c}`);
const BUILTIN_LONG = [
  "append", "delete", "check", "insert", "replace", "list", "list-rules", "flush", "zero", "new-chain",
  "delete-chain", "rename-chain", "policy", "source", "destination", "src", "dst", "protocol", "in-interface",
  "jump", "table", "match", "numeric", "out-interface", "verbose", "wait", "wait-interval", "exact", "fragments",
  "version", "help", "line-numbers", "modprobe", "set-counters", "goto", "ipv4", "ipv6",
];

export interface Vocabulary {
  readonly options: readonly string[];
  readonly extensionOptions: readonly string[];
  /** Per extension name, its long options (with dashes). */
  readonly optionsOf: ReadonlyMap<string, readonly string[]>;
  readonly matchNames: readonly string[];
  readonly targetNames: readonly string[];
  readonly tables: readonly string[];
  readonly chains: readonly string[];
  readonly addresses: readonly string[];
  readonly ports: readonly string[];
  readonly numbers: readonly string[];
  readonly values: readonly string[];
  readonly garbage: readonly string[];
}

let vocab: Vocabulary | null = null;

export function vocabulary(): Vocabulary {
  if (vocab) return vocab;
  const corpus = loadFuzzCorpus();
  const optionsOf = new Map<string, string[]>();
  const extensionOptions: string[] = [];
  for (const ext of [...ALL_MATCHES, ...ALL_TARGETS]) {
    const list: string[] = [];
    for (const spec of ext.options) for (const n of [spec.name, ...(spec.aliases ?? [])]) list.push(`--${n}`);
    optionsOf.set(ext.name, list);
    extensionOptions.push(...list);
  }
  const options = [
    ...BUILTIN_SHORT,
    ...BUILTIN_LONG.map((o) => `--${o}`),
    // abbreviations, attached values, clusters, end of options
    "--app", "--del", "--dst", "--s", "--d", "--pro", "--in", "--out", "--li", "--line", "--set", "--wait=5",
    "--protocol=tcp", "--source=1.2.3.4", "--jump=ACCEPT", "--table=nat", "--list=INPUT", "--match=tcp",
    "-ptcp", "-s1.2.3.4", "-jACCEPT", "-tnat", "-AINPUT", "-LINPUT", "-nvL", "-vvv", "-Ln", "-nL", "-Zv",
    "-vnxL", "-S1", "-Fv", "-Xv", "-w5", "-W", "-W10", "-c1,2", "-c", "--", "-", "---", "--=", "-=", "!", "!!",
    "-!", "--!",
  ];
  const matchNames = [...ALL_MATCHES.map((m) => m.name), "TCP", "owner", "set", "recent", "string", "nosuch", ""];
  const targetNames = [
    ...ALL_TARGETS.map((t) => t.name), "ACCEPT", "DROP", "RETURN", "QUEUE", "NFQUEUE", "TPROXY", "CLASSIFY",
    "ULOG", "accept", "SNAT2", "",
  ];
  const tables = [...TABLE_NAMES, "security", "broute", "FILTER", "", "nat ", "filter\0"];
  const chains = [
    "INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING", "DOCKER", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1",
    "DOCKER-ISOLATION-STAGE-2", "FOO", "foo", "bar", "a", "X".repeat(28), "Y".repeat(29), "-X", "!bang", "has space",
    "tab\there", "quo\"te", "back\\slash", "", "ACCEPT", "DNAT", "input", "1", "é", "链",
  ];
  const addresses = [
    "1.2.3.4", "10.0.0.0/8", "192.168.0.0/24", "192.168.0.100", "172.17.0.2/32", "0.0.0.0/0", "0/0", "0.0.0.0",
    "255.255.255.255", "1.2.3.4/255.255.0.0", "1.2.3.4/255.0.255.0", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/",
    "/24", "300.1.1.1", "1.2.3", "1.2", "1", "01.02.03.04", "0x7f.1", "127.1", "::1", "fe80::/64", "localhost",
    "localhost/8", "loopback/8", "default", "link-local", "nosuch.example", "1.2.3.4,5.6.7.8", "1.2.3.4,,",
    ",", "1.2.3.4-1.2.3.9", "1.2.3.9-1.2.3.4", "1.2.3.4/24,10.0.0.1", "1.2.3.4:80", "1.2.3.4:80-90",
    "1.2.3.4-1.2.3.5:1000-2000", ":80", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "[::1]:80", "a".repeat(300),
  ];
  const ports = [
    "0", "1", "22", "80", "443", "8080", "65535", "65536", "-1", "1:2", "2:1", ":", ":80", "80:", "1:65535",
    "80,443", "80,443,8080", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "http", "ssh", "domain", "nosuchsvc",
    "80-90", "0x50", "080", " 80", "80 ", "1:2:3",
  ];
  const numbers = [
    "0", "1", "2", "3", "10", "-1", "-0", "+1", "2147483647", "2147483648", "4294967295", "4294967296",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999", "0x10", "0X1f", "010", "08",
    "1e3", "1.5", " 1", "1 ", "NaN",
  ];
  const values = [
    "NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT", "NEW,ESTABLISHED", "new", "NEW,,",
    "SYN", "ACK", "FIN", "RST", "URG", "PSH", "ALL", "NONE", "SYN,ACK", "SYN,RST,ACK,FIN", "echo-request",
    "echo-reply", "any", "8", "8/0", "3/3", "255", "256", "port-unreachable", "icmp-port-unreachable",
    "tcp-reset", "icmp-host-prohibited", "LOCAL", "UNICAST", "BROADCAST", "MULTICAST", "0x1", "0x1/0xff",
    "0xffffffff/0xffffffff", "1/1", "5/sec", "10/minute", "1/hour", "0/sec", "1000000/s", "aa:bb:cc:dd:ee:ff",
    "AA:BB:CC:DD:EE", "ORIGINAL", "REPLY", "EXPECTED", "ASSURED", "CONFIRMED", "4", "7", "debug", "info",
    "warning", "emerg", "prefix: ", "1-2", "1536", "clamp-mss-to-pmtu", "tcp", "udp", "icmp", "all", "6",
    "17", "1", "0", "255", "ipv6-icmp", "sctp", "gre", "TCP", "UDP", "Tcp", "esp", "nosuchproto",
  ];
  const garbage = [
    "", " ", "  ", "\t", "\n", "\r\n", "\0", "x\0y", "\\", "\"", "'", "\"\"", "''", "$(id)", "`id`", "%s%s%n",
    "é", "ü", "中文", "🙂", "\u200b", "\ufeff", "\ud800", "a\ud800b", "Ω".repeat(20), "-é", "--é", "--中",
    "x".repeat(1000), "-".repeat(100), "!".repeat(10), "a=b", "--a=b=c", "[1:2]", "*nat", ":INPUT", "COMMIT",
    "#", "# comment",
  ];
  vocab = {
    options,
    extensionOptions,
    optionsOf,
    matchNames,
    targetNames,
    tables,
    chains,
    addresses,
    ports,
    numbers,
    values: [...values, ...corpus.corpusWords],
    garbage,
  };
  return vocab;
}
