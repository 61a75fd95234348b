// Starts Azurite (tests/emulators) for the browser tests (node_emulator.mjs),
// with the command line of the native harness (tests/emulators/README.md) on
// ports it picks, then gives its Blob and Table services the CORS rule
// corsRule(origin) through the official SDKs (Set Blob/Table Service
// Properties), so that pages of that origin, and of no other, may call it.
// stop() kills it and removes its directory.
import { createRequire } from "node:module";
import { join } from "node:path";
import { EMULATORS_DIR, startNodeEmulator } from "./node_emulator.mjs";

const ACCOUNT = "devstoreaccount1";
// Azurite's documented key for devstoreaccount1 (tests/emulators/README.md).
export const AZURITE_CREDENTIALS = {
  account_name: ACCOUNT,
  account_key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};

// The rule docs/browser.md gives for Azure Storage: the methods the `azure`
// provider uses, the request headers it sends, and the response headers it
// reads (with the prefixes Azure accepts: user metadata, Table's continuation).
export function corsRule(origin) {
  return {
    allowedOrigins: origin,
    allowedMethods: "DELETE,GET,HEAD,POST,PUT",
    allowedHeaders: "authorization,content-type,content-md5,if-match,if-none-match,accept,dataserviceversion," +
                    "maxdataserviceversion,prefer,x-ms-*",
    exposedHeaders: "etag,content-length,content-range,content-type,content-md5,last-modified,date,retry-after," +
                    "x-ms-error-code,x-ms-blob-content-md5,x-ms-copy-status,x-ms-copy-status-description," +
                    "x-ms-meta-*,x-ms-continuation-*",
    maxAgeInSeconds: 7200,
  };
}

export async function startAzurite({ origin, timeoutMs = 60_000 }) {
  const args = (dir) => [
    join(EMULATORS_DIR, "node_modules/azurite/dist/src/azurite.js"),
    "--blobHost", "127.0.0.1", "--blobPort", "0", "--queueHost", "127.0.0.1", "--queuePort", "0",
    "--tableHost", "127.0.0.1", "--tablePort", "0", "--location", join(dir, "azurite"),
    "--skipApiVersionCheck", "--disableTelemetry",
  ];
  const ready = (log) => {
    const port = (service) => new RegExp(`Azurite ${service} service is successfully listening at \\S+:(\\d+)`).exec(log)?.[1];
    const [blob, table] = [port("Blob"), port("Table")];
    return blob && table && port("Queue") ? { blob, table } : null;
  };
  const azurite = await startNodeEmulator({ name: "azurite", args, ready, timeoutMs });
  const blobEndpoint = `http://127.0.0.1:${azurite.ready.blob}/${ACCOUNT}`;
  const tableEndpoint = `http://127.0.0.1:${azurite.ready.table}/${ACCOUNT}`;
  try {
    const require = createRequire(join(EMULATORS_DIR, "package.json"));
    const { BlobServiceClient, StorageSharedKeyCredential } = require("@azure/storage-blob");
    const { TableServiceClient, AzureNamedKeyCredential } = require("@azure/data-tables");
    const { account_name: name, account_key: key } = AZURITE_CREDENTIALS;
    const cors = [corsRule(origin)];
    await new BlobServiceClient(blobEndpoint, new StorageSharedKeyCredential(name, key)).setProperties({ cors });
    await new TableServiceClient(tableEndpoint, new AzureNamedKeyCredential(name, key), { allowInsecureConnection: true })
      .setProperties({ cors });
  } catch (error) {
    await azurite.stop();
    throw new Error(`setting Azurite's CORS rule failed: ${error.message}\n${azurite.log()}`);
  }
  return { blobEndpoint, tableEndpoint, log: azurite.log, stop: azurite.stop, pid: azurite.pid };
}
