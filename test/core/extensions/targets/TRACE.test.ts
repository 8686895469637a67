// -j TRACE against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace. iptables-nft makes it nftables' `meta nftrace set 1`, accepted in every table.
import { acceptedRows, refusedRows } from "./xt-cases.ts";

acceptedRows("TRACE accepted as iptables accepts it", [
  ["raw", "PREROUTING", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["raw", "OUTPUT", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["raw", "OUTPUT", ["-p","tcp","-m","tcp","--dport","80","-j","TRACE"], "-p tcp -m tcp --dport 80 -j TRACE", "TRACE      6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80", "TRACE      tcp  --  anywhere             anywhere             tcp dpt:http"],
  ["filter", "INPUT", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["filter", "FORWARD", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["mangle", "PREROUTING", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["mangle", "POSTROUTING", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["nat", "POSTROUTING", ["-j","TRACE"], "-j TRACE", "TRACE      0    --  0.0.0.0/0            0.0.0.0/0           ", "TRACE      all  --  anywhere             anywhere            "],
  ["nat", "PREROUTING", ["-s","10.0.0.0/8","-j","TRACE"], "-s 10.0.0.0/8 -j TRACE", "TRACE      0    --  10.0.0.0/8           0.0.0.0/0           ", "TRACE      all  --  10.0.0.0/8           anywhere            "],
]);

refusedRows("TRACE refused as iptables refuses it", [
  ["raw", "OUTPUT", ["-j","TRACE","--foo"], "unknown option \"--foo\"\n", 2],
  ["raw", "OUTPUT", ["-j","TRACE","--log-prefix","x"], "unknown option \"--log-prefix\"\n", 2],
]);
