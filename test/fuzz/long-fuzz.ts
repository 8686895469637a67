// `npm run fuzz` (package.json points here): the long fuzz run of scripts/fuzz-long.ts, same options
// (`npm run fuzz -- --minutes 30 --seed 42`).
import "../../scripts/fuzz-long.ts";
