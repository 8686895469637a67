// The help text of `uptables -h`, laid out as iptables' own.
export const USAGE = (program: string): string => `Usage: ${program} -[ACD] chain rule-specification [options]
       ${program} -I chain [rulenum] rule-specification [options]
       ${program} -R chain rulenum rule-specification [options]
       ${program} -D chain rulenum [options]
       ${program} -[LS] [chain [rulenum]] [options]
       ${program} -[FZ] [chain] [options]
       ${program} -[NX] chain
       ${program} -E old-chain-name new-chain-name
       ${program} -P chain target [options]
       ${program} -h (print this help information)

Commands:
Either long or short options are allowed.
  --append  -A chain		Append to chain
  --check   -C chain		Check for the existence of a rule
  --delete  -D chain		Delete matching rule from chain
  --delete  -D chain rulenum
				Delete rule rulenum (1 = first) from chain
  --insert  -I chain [rulenum]
				Insert in chain as rulenum (default 1=first)
  --replace -R chain rulenum
				Replace rule rulenum (1 = first) in chain
  --list    -L [chain [rulenum]]
				List the rules in a chain or all chains
  --list-rules -S [chain [rulenum]]
				Print the rules in a chain or all chains
  --flush   -F [chain]		Delete all rules in  chain or all chains
  --zero    -Z [chain [rulenum]]
				Zero counters in chain or all chains
  --new     -N chain		Create a new user-defined chain
  --delete-chain
	    -X [chain]		Delete a user-defined chain
  --policy  -P chain target
				Change policy on chain to target
  --rename-chain
	    -E old-chain new-chain
				Change chain name, (moving any references)

Options:
[!] --protocol	-p proto	protocol: by number or name, eg. \`tcp'
[!] --source	-s address[/mask]
				source specification
[!] --destination -d address[/mask]
				destination specification
[!] --in-interface -i input name[+]
				network interface name ([+] for wildcard)
 --jump	-j target
				target for rule (may load target extension)
  --goto      -g chain
			       jump to chain with no return
  --match	-m match
				extended match (may load extension)
  --numeric	-n		numeric output of addresses and ports
[!] --out-interface -o output name[+]
				network interface name ([+] for wildcard)
  --table	-t table	table to manipulate (default: \`filter')
  --verbose	-v		verbose mode
  --wait	-w [seconds]	accepted for compatibility (uptables locks the rule set itself)
  --line-numbers		print line numbers when listing
  --exact	-x		expand numbers (display exact values)
[!] --fragment	-f		match second or further fragments only
  --set-counters -c PKTS BYTES	set the counter during insert/append
  --version	-V		print package version.

Offline rule sets: --ruleset FILE (or UPTABLES_RULESET=FILE) works on an iptables-save file
instead of the running daemon.
`;
