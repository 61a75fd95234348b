// Serves this example and the worker bundle on loopback:
//   node examples/web/serve.mjs [port]      then open the URL it prints.
// Plain static files, no special headers: the bundle needs no COOP/COEP.
import { fileURLToPath } from "node:url";
import { serve } from "../../web-worker/tests/static_server.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const server = await serve({ "/web/": `${root}build/web`, "/": `${root}examples/web` }, Number(process.argv[2] ?? 0));
console.log(`CloudKit web example: ${server.url}/  (Ctrl-C to stop)`);
