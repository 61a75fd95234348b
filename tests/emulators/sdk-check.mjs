// Checks that the pinned official SDKs work against an emulator started by
// tests/support/emulator.h, and what the emulator does with wrong
// credentials. Run by tests/integration/emulator_test.cc; also a starting
// point for SDK cross-checks.
//
// Usage: node sdk-check.mjs s3rver|dynalite   (EMULATOR_ENDPOINT=http://127.0.0.1:PORT)
//        node sdk-check.mjs azurite           (AZURE_STORAGE_CONNECTION_STRING=...)
// Prints one line per check and exits 1 at the first that fails.
import assert from "node:assert/strict";
import { Readable } from "node:stream";

import {
  CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import {
  BatchGetItemCommand, BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, ListTablesCommand, PutItemCommand,
  QueryCommand, UpdateTimeToLiveCommand, waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { AzureNamedKeyCredential, TableClient, TableServiceClient } from "@azure/data-tables";

const kind = process.argv[2];
const endpoint = process.env.EMULATOR_ENDPOINT;
const wrongKey = Buffer.from("not the key").toString("base64");

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok: ${name}`);
  } catch (error) {
    console.log(`FAILED: ${name}: ${error?.name ?? ""} ${error?.message ?? error}`);
    process.exit(1);
  }
}

async function rejectsWith(promise, expected) {
  try {
    await promise;
  } catch (error) {
    const seen = { name: error.name, code: error.code, status: error.$metadata?.httpStatusCode ?? error.statusCode };
    for (const [field, value] of Object.entries(expected)) {
      assert.equal(seen[field], value, `${field} of ${JSON.stringify(seen)}`);
    }
    return;
  }
  assert.fail(`succeeded, expected ${JSON.stringify(expected)}`);
}

async function checkS3() {
  const options = { endpoint, region: "us-east-1", forcePathStyle: true };
  const s3 = new S3Client({ ...options, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  await check("CreateBucket, PutObject, GetObject", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "sdk-check" }));
    await s3.send(new PutObjectCommand({ Bucket: "sdk-check", Key: "dir/a.txt", Body: "hello" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "sdk-check", Key: "dir/a.txt" }));
    assert.equal(await got.Body.transformToString(), "hello");
  });
  await check("ListObjectsV2 with a delimiter", async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "sdk-check", Delimiter: "/" }));
    assert.deepEqual(listed.CommonPrefixes.map((p) => p.Prefix), ["dir/"]);
  });
  await check("ListObjectsV2 pages with continuation tokens", async () => {
    for (const key of ["page/1", "page/2", "page/3"]) {
      await s3.send(new PutObjectCommand({ Bucket: "sdk-check", Key: key, Body: key }));
    }
    const keys = [];
    const pages = paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: "sdk-check", Prefix: "page/" });
    for await (const page of pages) {
      keys.push(...(page.Contents ?? []).map((object) => object.Key));
    }
    assert.deepEqual(keys, ["page/1", "page/2", "page/3"]);
  });
  await check("a streamed PutObject round-trips when checksums are sent only when required", async () => {
    // By default the SDK sends a streamed body aws-chunked with a trailing
    // checksum, and s3rver stores the framing as the object's bytes.
    const plain = new S3Client({ ...options, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
                                 requestChecksumCalculation: "WHEN_REQUIRED" });
    const body = Readable.from([Buffer.from("abc"), Buffer.from("def")]);
    await plain.send(new PutObjectCommand({ Bucket: "sdk-check", Key: "streamed", Body: body, ContentLength: 6 }));
    const got = await plain.send(new GetObjectCommand({ Bucket: "sdk-check", Key: "streamed" }));
    assert.equal(await got.Body.transformToString(), "abcdef");
  });
  await check("a wrong secret key is accepted (s3rver does not verify SigV4 signatures)", async () => {
    const wrong = new S3Client({ ...options, credentials: { accessKeyId: "S3RVER", secretAccessKey: "wrong" } });
    await wrong.send(new ListBucketsCommand({}));
  });
  await check("an unknown access key id is refused (403 InvalidAccessKeyId)", async () => {
    const unknown = new S3Client({ ...options, credentials: { accessKeyId: "NOBODY", secretAccessKey: "S3RVER" } });
    await rejectsWith(unknown.send(new ListBucketsCommand({})), { name: "InvalidAccessKeyId", status: 403 });
  });
}

async function checkDynamoDb() {
  const dynamo = new DynamoDBClient({ endpoint, region: "us-east-1",
                                      credentials: { accessKeyId: "dynalite", secretAccessKey: "dynalite" } });
  const TableName = "sdk_check";
  await check("CreateTable (hash and range key) until ACTIVE", async () => {
    await dynamo.send(new CreateTableCommand({
      TableName, BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    }));
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 30, minDelay: 1 }, { TableName });
  });
  await check("PutItem with ConditionExpression attribute_not_exists", async () => {
    const put = {
      TableName, Item: { pk: { S: "p" }, sk: { S: "a/1" } }, ConditionExpression: "attribute_not_exists(pk)",
    };
    await dynamo.send(new PutItemCommand(put));
    await rejectsWith(dynamo.send(new PutItemCommand(put)), { name: "ConditionalCheckFailedException", status: 400 });
  });
  await check("BatchWriteItem and BatchGetItem", async () => {
    await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: [
      { PutRequest: { Item: { pk: { S: "p" }, sk: { S: "a/2" } } } },
      { PutRequest: { Item: { pk: { S: "p" }, sk: { S: "b/1" } } } },
    ] } }));
    const got = await dynamo.send(new BatchGetItemCommand({ RequestItems: { [TableName]: {
      Keys: [{ pk: { S: "p" }, sk: { S: "a/2" } }, { pk: { S: "p" }, sk: { S: "b/1" } }],
    } } }));
    assert.equal(got.Responses[TableName].length, 2);
  });
  await check("Query with begins_with on the sort key", async () => {
    const found = await dynamo.send(new QueryCommand({
      TableName, KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": { S: "p" }, ":prefix": { S: "a/" } },
    }));
    assert.deepEqual(found.Items.map((item) => item.sk.S), ["a/1", "a/2"]);
  });
  await check("UpdateTimeToLive is not implemented (400 UnknownOperationException)", async () => {
    const ttl = new UpdateTimeToLiveCommand({
      TableName, TimeToLiveSpecification: { AttributeName: "expires", Enabled: true },
    });
    await rejectsWith(dynamo.send(ttl), { name: "UnknownOperationException", status: 400 });
  });
  await check("any credentials are accepted (dynalite verifies no signature)", async () => {
    const wrong = new DynamoDBClient({ endpoint, region: "us-east-1",
                                       credentials: { accessKeyId: "anyone", secretAccessKey: "anything" } });
    const tables = await wrong.send(new ListTablesCommand({}));
    assert.deepEqual(tables.TableNames, [TableName]);
  });
}

async function checkAzurite() {
  const connectionString = process.env.AZURE_STORAGE_CONNECTION_STRING;
  const service = BlobServiceClient.fromConnectionString(connectionString);
  const account = service.accountName;
  await check("blob: create a container, upload, download", async () => {
    const container = service.getContainerClient("sdk-check");
    await container.create();
    await container.getBlockBlobClient("a.txt").upload("hello", 5);
    const downloaded = await container.getBlobClient("a.txt").downloadToBuffer();
    assert.equal(downloaded.toString(), "hello");
  });
  await check("blob: a wrong account key is refused (403 AuthorizationFailure)", async () => {
    const wrong = new BlobServiceClient(service.url, new StorageSharedKeyCredential(account, wrongKey));
    await rejectsWith(wrong.getContainerClient("sdk-check").getProperties(), { status: 403 });
  });
  const tables = TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true });
  await check("table: create a table, upsert and get an entity", async () => {
    await tables.createTable("sdkcheck");
    const client = TableClient.fromConnectionString(connectionString, "sdkcheck", { allowInsecureConnection: true });
    await client.upsertEntity({ partitionKey: "p", rowKey: "r", value: 7 });
    assert.equal((await client.getEntity("p", "r")).value, 7);
  });
  await check("table: a wrong account key is refused (403)", async () => {
    const wrong = new TableClient(tables.url, "sdkcheck", new AzureNamedKeyCredential(account, wrongKey),
                                  { allowInsecureConnection: true });
    await rejectsWith(wrong.getEntity("p", "r"), { status: 403 });
  });
}

const checks = { s3rver: checkS3, dynalite: checkDynamoDb, azurite: checkAzurite };
if (!checks[kind]) {
  console.error(`usage: node sdk-check.mjs ${Object.keys(checks).join("|")}`);
  process.exit(2);
}
await checks[kind]();
