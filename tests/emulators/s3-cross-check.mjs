// Reads and writes objects in an S3-compatible service with the official AWS
// SDK for JavaScript, so tests can check what cloudkitd's `s3` provider wrote
// (and the other way round) with a client nobody here wrote.
//
// Usage (EMULATOR_ENDPOINT=http://127.0.0.1:PORT, path-style, us-east-1,
// credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):
//   node s3-cross-check.mjs get BUCKET KEY        -> {"sha256","size","contentType","metadata","etag"}
//   node s3-cross-check.mjs put BUCKET KEY FILE TYPE [NAME=VALUE]  -> {"etag"}
//   node s3-cross-check.mjs list BUCKET PREFIX    -> {"keys":[...]}
// Prints one JSON object; exits 1 with the SDK's error on stderr.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

const s3 = new S3Client({
  endpoint: process.env.EMULATOR_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  requestChecksumCalculation: "WHEN_REQUIRED",
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});

const [command, bucket, key, ...rest] = process.argv.slice(2);
try {
  if (command === "get") {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await got.Body.transformToByteArray());
    console.log(JSON.stringify({
      sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length,
      contentType: got.ContentType, metadata: got.Metadata ?? {}, etag: got.ETag,
    }));
  } else if (command === "put") {
    const [file, contentType, ...pairs] = rest;
    const Metadata = Object.fromEntries(pairs.map((pair) => pair.split("=", 2)));
    const put = await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: readFileSync(file), ContentType: contentType, Metadata,
    }));
    console.log(JSON.stringify({ etag: put.ETag }));
  } else if (command === "list") {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    console.log(JSON.stringify({ keys: (listed.Contents ?? []).map((object) => object.Key) }));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (error) {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
}
