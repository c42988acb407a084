// node:http, node:https and node:tls, taken from the runtime rather than imported as ES modules. An
// ESM import of a builtin enumerates its exports, which runs their lazy getters: node:http's WebSocket
// and MessageEvent load Node's bundled undici and node:https's the TLS root store — together ~24 MB of
// resident memory in every pod (measured: 42 MB bare, 58 MB after `import 'node:http'`). The types
// still come from `import type`.
export const http = process.getBuiltinModule('node:http');
export const https = process.getBuiltinModule('node:https');
export const tls = process.getBuiltinModule('node:tls');
