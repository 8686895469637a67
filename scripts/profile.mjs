import { register } from "tsx/esm/api";
register();
await import("./profile-fastpath.ts");
