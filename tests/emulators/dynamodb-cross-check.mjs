// Reads and writes items of cloudkitd's `dynamodb` provider with the official
// AWS SDK for JavaScript, in the provider's layout (one DynamoDB table per
// binding: pk = the API table, sk = the key, v = the value as binary, etag,
// exp_ms; actors/providers/dynamodb/dynamodb_items.h), so tests can check
// what the provider wrote (and the other way round) with a client nobody
// here wrote.
//
// Usage (EMULATOR_ENDPOINT=http://127.0.0.1:PORT, region us-east-1,
// credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):
//   node dynamodb-cross-check.mjs get TABLE API_TABLE KEY
//       -> {"found","value" (base64),"size","etag","expiresAtMs","attributes":{name: type}}
//   node dynamodb-cross-check.mjs put TABLE API_TABLE KEY VALUE_FILE ETAG [EXPIRES_MS]  -> {}
//       (with EXPIRES_MS: exp_ms, and exp in seconds rounded up, for the TTL)
//   node dynamodb-cross-check.mjs put-text TABLE API_TABLE KEY TEXT  -> {}
//       (an item as another application would write it: v a string, no etag)
//   node dynamodb-cross-check.mjs query TABLE API_TABLE PREFIX  -> {"keys":[...]}
// Prints one JSON object; exits 1 with the SDK's error on stderr.
import { readFileSync } from "node:fs";

import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";

const dynamo = new DynamoDBClient({
  endpoint: process.env.EMULATOR_ENDPOINT,
  region: "us-east-1",
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});

const [command, table, apiTable, key, ...rest] = process.argv.slice(2);
try {
  if (command === "get") {
    const got = await dynamo.send(new GetItemCommand({
      TableName: table, Key: { pk: { S: apiTable }, sk: { S: key } }, ConsistentRead: true,
    }));
    if (!got.Item) {
      console.log(JSON.stringify({ found: false }));
    } else {
      const value = Buffer.from(got.Item.v?.B ?? []);
      const attributes = Object.fromEntries(Object.entries(got.Item).map(([name, v]) => [name, Object.keys(v)[0]]));
      console.log(JSON.stringify({
        found: true, value: value.toString("base64"), size: value.length, etag: got.Item.etag?.S,
        expiresAtMs: got.Item.exp_ms ? Number(got.Item.exp_ms.N) : 0, attributes,
      }));
    }
  } else if (command === "put") {
    const [valueFile, etag, expiresMs] = rest;
    const Item = { pk: { S: apiTable }, sk: { S: key }, v: { B: readFileSync(valueFile) }, etag: { S: etag } };
    if (expiresMs) {
      Item.exp_ms = { N: expiresMs };
      Item.exp = { N: String(Math.ceil(Number(expiresMs) / 1000)) };
    }
    await dynamo.send(new PutItemCommand({ TableName: table, Item }));
    console.log(JSON.stringify({}));
  } else if (command === "put-text") {
    const Item = { pk: { S: apiTable }, sk: { S: key }, v: { S: rest[0] } };
    await dynamo.send(new PutItemCommand({ TableName: table, Item }));
    console.log(JSON.stringify({}));
  } else if (command === "query") {
    const keys = [];
    let ExclusiveStartKey;
    do {
      const page = await dynamo.send(new QueryCommand({
        TableName: table, ConsistentRead: true, ExclusiveStartKey,
        // DynamoDB refuses an empty string in a key condition.
        KeyConditionExpression: key ? "pk = :table AND begins_with(sk, :prefix)" : "pk = :table",
        ExpressionAttributeValues: key ? { ":table": { S: apiTable }, ":prefix": { S: key } } : { ":table": { S: apiTable } },
      }));
      keys.push(...(page.Items ?? []).map((item) => item.sk.S));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    console.log(JSON.stringify({ keys }));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (error) {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
}
