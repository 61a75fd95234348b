// Reads and writes the blobs and entities of cloudkitd's `azure` provider
// with the official Azure SDKs for JavaScript (@azure/storage-blob,
// @azure/data-tables), so tests can check what the provider wrote (and the
// other way round) with clients nobody here wrote. The provider's layout
// (actors/providers/azure): object KEY of API bucket B is blob
// "[prefix/]B/KEY" of the binding's container; item KEY of API table T is the
// entity PartitionKey T, RowKey = KEY's order-preserving encoding
// (table_keys.h), its value in Edm.Binary properties v0, v1, ... of at most
// 64 KiB each, its expiry (Unix ms, 0 = never) in the Edm.Int64 property e
// (table_entities.h). The caller passes RowKeys already encoded.
//
// Usage (AZURE_STORAGE_CONNECTION_STRING set):
//   node azure-cross-check.mjs blob-get CONTAINER NAME
//       -> {"sha256","size","contentType","contentMd5" (hex),"metadata"}
//   node azure-cross-check.mjs blob-put CONTAINER NAME FILE TYPE [NAME=VALUE]...   -> {"etag"}
//       (over 1 MiB: blocks of 1 MiB and a block list, as the SDK sends large files)
//   node azure-cross-check.mjs blob-list CONTAINER PREFIX  -> {"names":[...]}
//   node azure-cross-check.mjs entity-get TABLE PARTITION ROW
//       -> {"found","value" (base64),"expiresAtMs","types":{property: Edm type},"etag"}
//   node azure-cross-check.mjs entity-put TABLE PARTITION ROW VALUE_FILE [EXPIRES_MS]  -> {"etag"}
//       (EXPIRES_MS "-": no property e at all, as a writer unaware of expiry leaves it)
//   node azure-cross-check.mjs entity-list TABLE PARTITION  -> {"rowKeys":[...]}
//   node azure-cross-check.mjs account-sas PERMISSIONS  -> {"token"}
//       (an account SAS for Blob and Table, all resource types, valid for an hour, e.g. "rwdlacu" or "rl")
// Prints one JSON object; exits 1 with the SDK's error on stderr.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import {
  AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, BlobServiceClient, StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
} from "@azure/storage-blob";
import { TableClient, odata } from "@azure/data-tables";

const connectionString = process.env.AZURE_STORAGE_CONNECTION_STRING;
const kValuePieceBytes = 64 * 1024;
const kBlockBytes = 1024 * 1024;

function tableClient(table) {
  return TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
}

const [command, ...args] = process.argv.slice(2);
try {
  if (command === "account-sas") {
    const [permissions] = args;
    const fields = Object.fromEntries(connectionString.split(";").filter(Boolean).map((p) => {
      const at = p.indexOf("=");
      return [p.slice(0, at), p.slice(at + 1)];
    }));
    const credential = new StorageSharedKeyCredential(fields.AccountName, fields.AccountKey);
    const token = generateAccountSASQueryParameters({
      permissions: AccountSASPermissions.parse(permissions), services: AccountSASServices.parse("bt").toString(),
      resourceTypes: AccountSASResourceTypes.parse("sco").toString(), protocol: "https,http",
      expiresOn: new Date(Date.now() + 3600 * 1000), version: "2021-12-02",
    }, credential).toString();
    console.log(JSON.stringify({ token }));
  } else if (command === "blob-get") {
    const [container, name] = args;
    const blob = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container)
      .getBlobClient(name);
    const bytes = await blob.downloadToBuffer();
    const properties = await blob.getProperties();
    console.log(JSON.stringify({
      sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length,
      contentType: properties.contentType, metadata: properties.metadata ?? {},
      contentMd5: properties.contentMD5 ? Buffer.from(properties.contentMD5).toString("hex") : "",
    }));
  } else if (command === "blob-put") {
    const [container, name, file, contentType, ...pairs] = args;
    const metadata = Object.fromEntries(pairs.map((pair) => pair.split("=", 2)));
    const blob = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container)
      .getBlockBlobClient(name);
    const put = await blob.uploadData(readFileSync(file), {
      blobHTTPHeaders: { blobContentType: contentType }, metadata,
      maxSingleShotSize: kBlockBytes, blockSize: kBlockBytes,
    });
    console.log(JSON.stringify({ etag: put.etag }));
  } else if (command === "blob-list") {
    const [container, prefix] = args;
    const names = [];
    const containerClient = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container);
    for await (const blob of containerClient.listBlobsFlat({ prefix })) names.push(blob.name);
    console.log(JSON.stringify({ names }));
  } else if (command === "entity-get") {
    const [table, partitionKey, rowKey] = args;
    let entity;
    try {
      entity = await tableClient(table).getEntity(partitionKey, rowKey, { disableTypeConversion: true });
    } catch (error) {
      if (error.statusCode !== 404) throw error;
      console.log(JSON.stringify({ found: false }));
      process.exit(0);
    }
    const pieces = [];
    for (let i = 0; entity[`v${i}`] !== undefined; ++i) pieces.push(Buffer.from(entity[`v${i}`].value, "base64"));
    const types = {};
    for (const [property, typed] of Object.entries(entity)) {
      if (!property.startsWith("odata.") && typed && typeof typed === "object" && "type" in typed) {
        types[property] = typed.type;
      }
    }
    console.log(JSON.stringify({
      found: true, value: Buffer.concat(pieces).toString("base64"), types, etag: entity.etag,
      expiresAtMs: entity.e ? Number(entity.e.value) : null,
    }));
  } else if (command === "entity-put") {
    const [table, partitionKey, rowKey, valueFile, expiresMs] = args;
    const value = readFileSync(valueFile);
    const entity = { partitionKey, rowKey };
    if (expiresMs !== "-") entity.e = { value: String(expiresMs ?? 0), type: "Int64" };
    let piece = 0;
    do {
      entity[`v${piece}`] = new Uint8Array(value.subarray(piece * kValuePieceBytes, (piece + 1) * kValuePieceBytes));
      ++piece;
    } while (piece * kValuePieceBytes < value.length);
    const put = await tableClient(table).upsertEntity(entity, "Replace");
    console.log(JSON.stringify({ etag: put.etag }));
  } else if (command === "entity-list") {
    const [table, partitionKey] = args;
    const rowKeys = [];
    const entities = tableClient(table).listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ["RowKey"] },
    });
    for await (const entity of entities) rowKeys.push(entity.rowKey);
    console.log(JSON.stringify({ rowKeys }));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (error) {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
}
