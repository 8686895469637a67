# Built by `npm run build:native` (native-bindings/build.mjs, also run by npm's install step):
# node-gyp against the Node headers already on the machine, no downloads.
{
  "targets": [
    {
      # The N-API addon: build/Release/uptables_tun.node, loaded by src/io/tun.ts.
      "target_name": "uptables_tun",
      "sources": ["src/tun_addon.cc", "src/tun_open.c"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-std=c++17"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      # The reflector: build/Release/upt-reflector, a plain C program (see reflector.c).
      "target_name": "upt-reflector",
      "type": "executable",
      "sources": ["reflector.c", "src/tun_open.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
