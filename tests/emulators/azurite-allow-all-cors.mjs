// Lets browser pages on any origin call an Azurite instance: sets a CORS rule
// allowing every origin, method and header on its blob and table services,
// through the official SDKs. Run by tests/support/emulator.cc (cors_allow_all)
// with AZURE_STORAGE_CONNECTION_STRING naming the instance.
import { BlobServiceClient } from "@azure/storage-blob";
import { TableServiceClient } from "@azure/data-tables";

const connectionString = process.env.AZURE_STORAGE_CONNECTION_STRING;
if (!connectionString) {
  console.error("azurite-allow-all-cors: AZURE_STORAGE_CONNECTION_STRING is not set");
  process.exit(2);
}

const allowAll = {
  allowedOrigins: "*",
  allowedMethods: "DELETE,GET,HEAD,MERGE,OPTIONS,PATCH,POST,PUT",
  allowedHeaders: "*",
  exposedHeaders: "*",
  maxAgeInSeconds: 3600,
};

await BlobServiceClient.fromConnectionString(connectionString).setProperties({ cors: [allowAll] });
await TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true })
  .setProperties({ cors: [allowAll] });
