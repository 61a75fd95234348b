// The worker bundle's JS API, an ES module:
//   const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider: "memory" }] });
//   await ck.storage.createBucket("docs");
//   await ck.storage.putObject("docs", "a.txt", blobOrStreamOrBytes);
//   const { object, body } = await ck.storage.getObject("docs", "a.txt");  // body: ReadableStream
//   await ck.kv.put("settings", "theme", "dark");
//   await ck.queue.create("jobs");
//   await ck.queue.send("jobs", "resize photo 7");
//   const [message] = await ck.queue.receive("jobs", { waitMs: 20000 });  // long poll
//   await ck.queue.ack("jobs", message.receiptHandle);
//   await ck.pubsub.createTopic("orders");
//   await ck.pubsub.createSubscription("shipping", "orders", { filter: { kind: "paid" } });
//   await ck.pubsub.publish("orders", "order 7", { attributes: { kind: "paid" } });
//   for await (const m of ck.pubsub.subscribe("shipping")) { ...; await m.ack(); }
//   const { version } = await ck.secrets.put("db/password", "s3cret");
//   ck.binding("scratch").kv...   // another binding
// Every call runs in an actor on a Web Worker (the same C++ actors cloudkitd
// hosts, compiled to wasm), with the daemon's semantics and status codes;
// failures reject with a CloudKitError.
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { FrameKind } from "./gen/cloudkit/v1/envelope_pb.js";
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";
import * as kvpb from "./gen/cloudkit/v1/key_value_pb.js";
import * as ospb from "./gen/cloudkit/v1/object_storage_pb.js";
import * as qpb from "./gen/cloudkit/v1/queue_pb.js";
import * as pspb from "./gen/cloudkit/v1/pubsub_pb.js";
import * as secretspb from "./gen/cloudkit/v1/secrets_pb.js";
import { CloudKitError, invalidArgument } from "./errors.js";
import { WorkerPool } from "./pool.js";
import { CoreDescriptionSchema } from "./gen/cloudkit/web/v1/worker_pb.js";

export { CloudKitError, StatusCode };

// The services and providers the wasm core serves, as its workers describe
// them (cloudkit.web.v1.CoreDescription): calls are routed from this table.
function servicesFrom(descriptionBytes) {
  const description = fromBinary(CoreDescriptionSchema, descriptionBytes);
  const services = new Map(description.services.map((s) => [s.name, {
    prefix: `${s.protoService}/`,
    streams: new Set(s.methods.filter((m) => m.streams).map((m) => m.name)),
  }]));
  const providers = new Map(description.providers.map((p) => [p.name, p.services]));
  return { services, providers };
}
const CHUNK_BYTES = 256 * 1024;
const DOWNLOAD_WINDOW = 8;
const encoder = new TextEncoder();

function errorFrom(status) {
  return new CloudKitError(status.code, status.message,
                           { retryable: status.retryable, retryAfterMs: status.retryAfterMs });
}
const failed = (envelope) => envelope.status && envelope.status.code !== StatusCode.OK;

// Strings cross to the actors as UTF-8, which cannot carry a lone surrogate
// (TextEncoder would write U+FFFD instead): such a string is refused, never
// silently changed into another name or value.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function requireWellFormed(what, value) {
  const at = value.search(LONE_SURROGATE);
  if (at >= 0) {
    throw invalidArgument(`${what} is not valid UTF-16: a lone surrogate (U+${value.charCodeAt(at).toString(16).toUpperCase()}) at index ${at}`);
  }
  return value;
}
function requireString(what, value, { allowEmpty = false } = {}) {
  if (typeof value !== "string") throw invalidArgument(`${what} must be a string, got ${typeof value}`);
  if (!allowEmpty && value.length === 0) throw invalidArgument(`${what} is empty`);
  return requireWellFormed(what, value);
}
function toBytes(what, value) {
  if (typeof value === "string") return encoder.encode(requireWellFormed(what, value));
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalidArgument(`${what} must be a string, Uint8Array or ArrayBuffer`);
}
function stringMap(what, value) {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidArgument(`${what} must be an object`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalidArgument(`${what}: '${k}' must be a string, got ${typeof v}`);
    requireWellFormed(`${what}: a name`, k);
    requireWellFormed(`${what}: '${k}'`, v);
  }
  return value;
}
// Adds a binding's credentials to `spec` (what the pool keeps to re-create
// its actors after a worker dies) as a property that is not enumerable, so
// that logging or serializing the spec (console.log, JSON.stringify, a
// spread) shows none of them. Only the spawn message carries them, to the
// worker (pool.js).
function withCredentials(spec, credentials) {
  return Object.defineProperty(spec, "credentials", { value: credentials, enumerable: false });
}
function optionalNumber(what, value) {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(`${what} must be a non-negative number`);
  }
  return Math.floor(value);
}

// `value` (a URL, or a string resolved against the page as `new Worker`
// would) as an absolute URL; INVALID_ARGUMENT naming `what` when it is none.
function absoluteUrl(what, value) {
  if (!(value instanceof URL) && typeof value !== "string") {
    throw invalidArgument(`${what} must be a URL or a string, got ${value === null ? "null" : typeof value}`);
  }
  if (value === "") throw invalidArgument(`${what} is empty`);
  try {
    return new URL(value, globalThis.location?.href).href;
  } catch {
    throw invalidArgument(`${what} is not a valid URL: '${String(value)}'`);
  }
}

// A body the page gave that failed while being read (a ReadableStream that
// errored): the upload is abandoned.
function bodyFailed(error) {
  if (error instanceof CloudKitError) return error;
  const failure = invalidArgument(`reading the object body failed: ${error?.message ?? error}`);
  failure.cause = error;
  return failure;
}

// Results are plain objects (their shapes are in cloudkit.d.ts), never
// protobuf messages: times and sizes are numbers (ms since the epoch, bytes).
const bucketOf = (b) => ({ name: b.name, createdMs: Number(b.createdMs) });
const objectOf = (o) => ({
  bucket: o.bucket, key: o.key, size: Number(o.size), etag: o.etag, lastModifiedMs: Number(o.lastModifiedMs),
  contentType: o.contentType, metadata: { ...o.metadata },
});
const itemOf = (i) => ({ key: i.key, value: i.value, etag: i.etag, expiresAtMs: Number(i.expiresAtMs) });

// Yields the body in chunks of at most CHUNK_BYTES, reading lazily.
async function* chunksOf(body) {
  if (body instanceof Blob) body = body.stream();
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const bytes = toBytes("stream chunk", value);
        for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES);
      }
    } finally {
      reader.releaseLock();
    }
  }
  const bytes = toBytes("object body", body);
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES);
}

class Binding {
  constructor(client, name, actors) {
    this.client = client;
    this.name = name;
    this.actors = actors;  // service -> actor
    this.storage = new Storage(this);
    this.kv = new KeyValue(this);
    this.queue = new Queue(this);
    this.pubsub = new PubSub(this);
    this.secrets = new Secrets(this);
  }

  actorFor(service) {
    const refusal = this.client.pool.refusal();
    if (refusal) throw new CloudKitError(StatusCode.UNAVAILABLE, refusal);
    const actor = this.actors[service];
    if (!actor) {
      throw new CloudKitError(StatusCode.UNIMPLEMENTED,
                              `unimplemented: binding '${this.name}' does not serve ${service}`);
    }
    return actor;
  }

  // One request, one response, within timeoutMs (default: the client's).
  unary(service, rpc, requestSchema, responseSchema, init, timeoutMs = this.client.timeoutMs) {
    return new Promise((resolve, reject) => {
      const actor = this.actorFor(service);
      let request;
      try {
        request = toBinary(requestSchema, create(requestSchema, init));
      } catch (error) {
        throw invalidArgument(`${rpc}: ${error.message}`);
      }
      const call = this.client.pool.call(actor, (envelope, body) => {
        if (failed(envelope)) reject(errorFrom(envelope.status));
        else resolve(fromBinary(responseSchema, body));
      }, timeoutMs);
      call.send(FrameKind.REQUEST, request, { method: this.client.methodOf(service, rpc), timeoutMs });
    });
  }
}

class Storage {
  constructor(binding) { this.binding = binding; }
  #unary(rpc, init) {
    return this.binding.unary("object_storage", rpc, ospb[`${rpc}RequestSchema`], ospb[`${rpc}ResponseSchema`], init);
  }

  async createBucket(bucket) {
    return bucketOf((await this.#unary("CreateBucket", { bucket: requireString("bucket", bucket) })).bucket);
  }
  async deleteBucket(bucket) { await this.#unary("DeleteBucket", { bucket: requireString("bucket", bucket) }); }
  async listBuckets() { return (await this.#unary("ListBuckets", {})).buckets.map(bucketOf); }
  async bucketExists(bucket) {
    return (await this.#unary("BucketExists", { bucket: requireString("bucket", bucket) })).exists;
  }
  async headObject(bucket, key) {
    return objectOf((await this.#unary("HeadObject", { bucket: requireString("bucket", bucket), key: requireString("key", key) })).object);
  }
  async deleteObject(bucket, key, { ifMatch = "" } = {}) {
    return (await this.#unary("DeleteObject", {
      bucket: requireString("bucket", bucket), key: requireString("key", key),
      ifMatch: requireString("ifMatch", ifMatch, { allowEmpty: true }),
    })).existed;
  }
  async deleteObjects(bucket, keys) {
    if (!Array.isArray(keys)) throw invalidArgument("keys must be an array of strings");
    keys.forEach((k) => requireString("key", k, { allowEmpty: true }));
    const response = await this.#unary("DeleteObjects", { bucket: requireString("bucket", bucket), keys });
    return { deleted: response.deleted, errors: response.errors.map((e) => ({ key: e.key, error: errorFrom(e.status) })) };
  }
  async copyObject(sourceBucket, sourceKey, bucket, key, { ifMatch = "" } = {}) {
    return objectOf((await this.#unary("CopyObject", {
      sourceBucket: requireString("source bucket", sourceBucket), sourceKey: requireString("source key", sourceKey),
      bucket: requireString("bucket", bucket), key: requireString("key", key),
      ifMatch: requireString("ifMatch", ifMatch, { allowEmpty: true }),
    })).object);
  }
  async listObjects(bucket, { prefix = "", delimiter = "", pageSize = 0, continuationToken = "" } = {}) {
    const response = await this.#unary("ListObjects", {
      bucket: requireString("bucket", bucket), prefix: requireString("prefix", prefix, { allowEmpty: true }),
      delimiter: requireString("delimiter", delimiter, { allowEmpty: true }), pageSize: optionalNumber("pageSize", pageSize),
      continuationToken: requireString("continuationToken", continuationToken, { allowEmpty: true }),
    });
    return { objects: response.objects.map(objectOf), commonPrefixes: response.commonPrefixes,
             nextContinuationToken: response.nextContinuationToken };
  }
  // A URL that lets whoever holds it GET or PUT the object until it expires,
  // without credentials (providers of remote services: `s3`, `azure`; others
  // answer UNIMPLEMENTED). Resolves to { url, method, expiresMs }.
  async presignObject(bucket, key, { method = "GET", expiresSeconds = 0 } = {}) {
    const response = await this.#unary("PresignObject", {
      bucket: requireString("bucket", bucket), key: requireString("key", key),
      method: requireString("method", method), expiresSeconds: optionalNumber("expiresSeconds", expiresSeconds),
    });
    return { url: response.url, method: response.method, expiresMs: Number(response.expiresMs) };
  }

  // Streams `body` (Blob, ReadableStream, Uint8Array, ArrayBuffer or string)
  // to the object under credit-based flow control. Resolves to its ObjectInfo.
  async putObject(bucket, key, body, { contentType = "", metadata = {}, ifMatch = "", ifNoneMatch = false } = {}) {
    const init = {
      bucket: requireString("bucket", bucket), key: requireString("key", key),
      contentType: requireString("contentType", contentType, { allowEmpty: true }),
      metadata, ifMatch: requireString("ifMatch", ifMatch, { allowEmpty: true }), ifNoneMatch: Boolean(ifNoneMatch),
    };
    if (typeof metadata !== "object" || metadata === null) throw invalidArgument("metadata must be an object");
    stringMap("metadata", metadata);
    const actor = this.binding.actorFor("object_storage");
    const chunks = chunksOf(body);
    let first, next;
    try {
      first = await chunks.next();
      next = first.done ? first : await chunks.next();
    } catch (error) {
      throw bodyFailed(error);
    }
    init.data = first.done ? new Uint8Array(0) : first.value;
    init.moreData = !next.done;
    const timeoutMs = this.binding.client.timeoutMs;
    return new Promise((resolve, reject) => {
      let credits = 0, pumping = false, finished = false;
      const call = this.binding.client.pool.call(actor, (envelope, reply) => {
        if (envelope.kind === FrameKind.CREDIT && !failed(envelope)) {
          credits += envelope.credits;
          pump();
          return;
        }
        finished = true;
        chunks.return?.();
        if (failed(envelope)) reject(errorFrom(envelope.status));
        else resolve(objectOf(fromBinary(ospb.PutObjectResponseSchema, reply).object));
      }, timeoutMs);
      const pump = async () => {
        if (pumping) return;
        pumping = true;
        try {
          while (credits > 0 && !finished && !next.done) {
            const chunk = next.value;
            next = await chunks.next();
            credits--;
            call.send(FrameKind.DATA, chunk, { endOfStream: next.done });
          }
        } catch (error) {  // the source failed: abandon the upload
          finished = true;
          call.send(FrameKind.CANCEL);
          call.end();
          reject(bodyFailed(error));
        } finally {
          pumping = false;
        }
      };
      call.send(FrameKind.REQUEST, toBinary(ospb.PutObjectRequestSchema, create(ospb.PutObjectRequestSchema, init)),
                { method: this.binding.client.methodOf("object_storage", "PutObject"), timeoutMs });
    });
  }

  // Resolves once the object's head arrives: { object, rangeStart,
  // contentLength, body } where body is a ReadableStream of Uint8Array chunks
  // pulled under flow control; also blob() and arrayBuffer() helpers.
  async getObject(bucket, key, { range, ifMatch = "", ifNoneMatch = "" } = {}) {
    const init = {
      bucket: requireString("bucket", bucket), key: requireString("key", key),
      ifMatch: requireString("ifMatch", ifMatch, { allowEmpty: true }),
      ifNoneMatch: requireString("ifNoneMatch", ifNoneMatch, { allowEmpty: true }),
    };
    if (range !== undefined) {
      init.hasRange = true;
      init.rangeStart = BigInt(optionalNumber("range.start", range.start));
      init.rangeLength = BigInt(optionalNumber("range.length", range.length));
    }
    const actor = this.binding.actorFor("object_storage");
    const timeoutMs = this.binding.client.timeoutMs;
    return new Promise((resolve, reject) => {
      let controller, head = null, call;
      const body = new ReadableStream({
        start(c) { controller = c; },
        pull() { if (head && !call.ended) call.send(FrameKind.CREDIT, undefined, { credits: 1 }); },
        cancel() { if (!call.ended) { call.send(FrameKind.CANCEL); call.end(); } },
      }, { highWaterMark: 1 });
      call = this.binding.client.pool.call(actor, (envelope, bytes) => {
        if (!head) {
          if (failed(envelope)) return reject(errorFrom(envelope.status));
          const response = fromBinary(ospb.GetObjectResponseSchema, bytes);
          head = response;
          if (response.data.length > 0) controller.enqueue(response.data);
          if (!response.moreData) controller.close();
          resolve({
            object: objectOf(response.object), rangeStart: Number(response.rangeStart),
            contentLength: Number(response.contentLength), body,
            blob: () => new Response(body).blob(),
            arrayBuffer: () => new Response(body).arrayBuffer(),
          });
          return;
        }
        if (failed(envelope)) return controller.error(errorFrom(envelope.status));
        if (bytes.length > 0) controller.enqueue(bytes);
        if (envelope.endOfStream) controller.close();
      }, timeoutMs);
      call.send(FrameKind.REQUEST, toBinary(ospb.GetObjectRequestSchema, create(ospb.GetObjectRequestSchema, init)),
                { method: this.binding.client.methodOf("object_storage", "GetObject"), credits: DOWNLOAD_WINDOW, timeoutMs });
    });
  }
}

class KeyValue {
  constructor(binding) { this.binding = binding; }
  #unary(rpc, init) {
    return this.binding.unary("key_value", rpc, kvpb[`${rpc}RequestSchema`], kvpb[`${rpc}ResponseSchema`], init);
  }
  #names(table, key) { return { table: requireString("table", table), key: requireString("key", key, { allowEmpty: true }) }; }

  async get(table, key) { return itemOf((await this.#unary("Get", this.#names(table, key))).item); }
  async put(table, key, value, { ifAbsent = false, ifMatch = "", ttlMs } = {}) {
    const response = await this.#unary("Put", {
      ...this.#names(table, key), value: toBytes("value", value), ifAbsent: Boolean(ifAbsent),
      ifMatch: requireString("ifMatch", ifMatch, { allowEmpty: true }), ttlMs: BigInt(optionalNumber("ttlMs", ttlMs)),
    });
    return { etag: response.etag, expiresAtMs: Number(response.expiresAtMs) };
  }
  async delete(table, key, { ifMatch = "" } = {}) {
    return (await this.#unary("Delete", { ...this.#names(table, key), ifMatch: requireString("ifMatch", ifMatch, { allowEmpty: true }) })).existed;
  }
  async exists(table, key) { return (await this.#unary("Exists", this.#names(table, key))).exists; }
  async list(table, { prefix = "", pageSize = 0, continuationToken = "", keysOnly = false } = {}) {
    const response = await this.#unary("List", {
      table: requireString("table", table), prefix: requireString("prefix", prefix, { allowEmpty: true }),
      pageSize: optionalNumber("pageSize", pageSize), keysOnly: Boolean(keysOnly),
      continuationToken: requireString("continuationToken", continuationToken, { allowEmpty: true }),
    });
    return { items: response.items.map(itemOf), nextContinuationToken: response.nextContinuationToken };
  }
  async batchGet(table, keys) {
    if (!Array.isArray(keys)) throw invalidArgument("keys must be an array of strings");
    keys.forEach((k) => requireString("key", k, { allowEmpty: true }));
    const response = await this.#unary("BatchGet", { table: requireString("table", table), keys });
    return { items: response.items.map(itemOf), missing: response.missing };
  }
  async batchPut(table, entries) {
    if (!Array.isArray(entries)) throw invalidArgument("entries must be an array of {key, value, ttlMs}");
    return (await this.#unary("BatchPut", {
      table: requireString("table", table),
      entries: entries.map((e) => ({ key: requireString("key", e?.key, { allowEmpty: true }), value: toBytes("value", e.value),
                                     ttlMs: BigInt(optionalNumber("ttlMs", e.ttlMs)) })),
    })).etags;
  }
}

// How much longer than its wait a long poll's call may take: the worker
// answers shortly before the deadline, and the answer needs time to arrive.
const LONG_POLL_SLACK_MS = 5000;

class Queue {
  constructor(binding) { this.binding = binding; }
  #unary(rpc, init, timeoutMs) {
    return this.binding.unary("queue", rpc, qpb[`${rpc}RequestSchema`], qpb[`${rpc}ResponseSchema`], init, timeoutMs);
  }
  #info(queue) {
    const { fifo, visibilityTimeoutMs, maxReceives, deadLetterQueue } = queue.options ?? {};
    return { name: queue.name, options: { fifo, visibilityTimeoutMs, maxReceives, deadLetterQueue },
             createdMs: Number(queue.createdMs) };
  }
  #entry(what, body, { attributes, delayMs, deduplicationId = "" } = {}) {
    return {
      body: toBytes(what, body), attributes: stringMap(`${what} attributes`, attributes),
      delayMs: optionalNumber("delayMs", delayMs),
      deduplicationId: requireString("deduplicationId", deduplicationId, { allowEmpty: true }),
    };
  }

  // Options: fifo, visibilityTimeoutMs (default 30000), deadLetterQueue with maxReceives.
  async create(queue, { fifo = false, visibilityTimeoutMs, deadLetterQueue = "", maxReceives } = {}) {
    const response = await this.#unary("CreateQueue", {
      queue: requireString("queue", queue),
      options: { fifo: Boolean(fifo), visibilityTimeoutMs: optionalNumber("visibilityTimeoutMs", visibilityTimeoutMs),
                 deadLetterQueue: requireString("deadLetterQueue", deadLetterQueue, { allowEmpty: true }),
                 maxReceives: optionalNumber("maxReceives", maxReceives) },
    });
    return this.#info(response.queue);
  }
  async delete(queue) { await this.#unary("DeleteQueue", { queue: requireString("queue", queue) }); }
  async list({ prefix = "", pageSize = 0, continuationToken = "" } = {}) {
    const response = await this.#unary("ListQueues", {
      prefix: requireString("prefix", prefix, { allowEmpty: true }), pageSize: optionalNumber("pageSize", pageSize),
      continuationToken: requireString("continuationToken", continuationToken, { allowEmpty: true }),
    });
    return { queues: response.queues.map((q) => this.#info(q)), nextContinuationToken: response.nextContinuationToken };
  }
  // Resolves to { messageId, duplicate }.
  async send(queue, body, options = {}) {
    const response = await this.#unary("Send", { queue: requireString("queue", queue), ...this.#entry("message", body, options) });
    return { messageId: response.messageId, duplicate: response.duplicate };
  }
  // messages: [{ body, attributes?, delayMs?, deduplicationId? }], enqueued atomically.
  async sendBatch(queue, messages) {
    if (!Array.isArray(messages)) throw invalidArgument("messages must be an array of {body, attributes, delayMs, deduplicationId}");
    const response = await this.#unary("SendBatch", {
      queue: requireString("queue", queue), entries: messages.map((m) => this.#entry("message", m?.body, m)),
    });
    return response.results.map((r) => ({ messageId: r.messageId, duplicate: r.duplicate }));
  }
  // Up to maxMessages messages; with waitMs (at most 20000) waits for one
  // to arrive. Resolves to [{ messageId, body (Uint8Array), attributes,
  // receiptHandle, receiveCount, sentMs, invisibleUntilMs }], maybe empty.
  async receive(queue, { maxMessages = 1, visibilityTimeoutMs, waitMs } = {}) {
    const wait = optionalNumber("waitMs", waitMs);
    const response = await this.#unary("Receive", {
      queue: requireString("queue", queue), maxMessages: optionalNumber("maxMessages", maxMessages),
      visibilityTimeoutMs: optionalNumber("visibilityTimeoutMs", visibilityTimeoutMs), waitMs: wait,
    }, Math.max(this.binding.client.timeoutMs, wait + LONG_POLL_SLACK_MS));
    return response.messages.map((m) => ({
      messageId: m.messageId, body: m.body, attributes: m.attributes, receiptHandle: m.receiptHandle,
      receiveCount: m.receiveCount, sentMs: Number(m.sentMs), invisibleUntilMs: Number(m.invisibleUntilMs),
    }));
  }
  async ack(queue, receiptHandle) {
    await this.#unary("Ack", { queue: requireString("queue", queue), receiptHandle: requireString("receiptHandle", receiptHandle) });
  }
  // Resolves to { receiptHandle (use it from now on), invisibleUntilMs }.
  async changeVisibility(queue, receiptHandle, visibilityTimeoutMs) {
    const response = await this.#unary("ChangeVisibility", {
      queue: requireString("queue", queue), receiptHandle: requireString("receiptHandle", receiptHandle),
      visibilityTimeoutMs: optionalNumber("visibilityTimeoutMs", visibilityTimeoutMs),
    });
    return { receiptHandle: response.receiptHandle, invisibleUntilMs: Number(response.invisibleUntilMs) };
  }
  async depth(queue) {
    const response = await this.#unary("Depth", { queue: requireString("queue", queue) });
    return { visible: Number(response.visible), inFlight: Number(response.inFlight), delayed: Number(response.delayed) };
  }
  // Resolves to how many messages it deleted.
  async purge(queue) { return Number((await this.#unary("Purge", { queue: requireString("queue", queue) })).purged); }
}

// Topics and durable subscriptions: a publish reaches every subscription of
// its topic whose filter it matches; subscribe() streams a subscription's
// messages as an async iterator, each acked (or nacked) by the consumer.
class PubSub {
  constructor(binding) { this.binding = binding; }
  // `messages` is the stem of the rpc's messages ("AckMessages" for Ack).
  #unary(rpc, init, messages = rpc) {
    return this.binding.unary("pubsub", rpc, pspb[`${messages}RequestSchema`], pspb[`${messages}ResponseSchema`], init);
  }
  #topic(topic) { return { name: topic.name, createdMs: Number(topic.createdMs) }; }
  #subscription(s) {
    return { name: s.name, topic: s.topic, filter: { ...s.options.filter }, ackDeadlineMs: s.options.ackDeadlineMs,
             deadLetterSubscription: s.options.deadLetterSubscription, maxDeliveries: s.options.maxDeliveries,
             createdMs: Number(s.createdMs) };
  }
  #ackIds(ackIds) {
    if (!Array.isArray(ackIds)) throw invalidArgument("ackIds must be an array of strings");
    return ackIds.map((id) => requireString("ack id", id));
  }

  async createTopic(topic) { return this.#topic((await this.#unary("CreateTopic", { topic: requireString("topic", topic) })).topic); }
  async deleteTopic(topic) { await this.#unary("DeleteTopic", { topic: requireString("topic", topic) }); }
  async listTopics({ prefix = "", pageSize = 0, continuationToken = "" } = {}) {
    const response = await this.#unary("ListTopics", {
      prefix: requireString("prefix", prefix, { allowEmpty: true }), pageSize: optionalNumber("pageSize", pageSize),
      continuationToken: requireString("continuationToken", continuationToken, { allowEmpty: true }),
    });
    return { topics: response.topics.map((t) => this.#topic(t)), nextContinuationToken: response.nextContinuationToken };
  }
  // Options: filter ({key: value}, all must match), ackDeadlineMs (default
  // 30000), deadLetterSubscription with maxDeliveries.
  async createSubscription(subscription, topic, { filter, ackDeadlineMs, deadLetterSubscription = "", maxDeliveries } = {}) {
    const response = await this.#unary("CreateSubscription", {
      subscription: requireString("subscription", subscription), topic: requireString("topic", topic),
      options: { filter: stringMap("filter", filter), ackDeadlineMs: optionalNumber("ackDeadlineMs", ackDeadlineMs),
                 deadLetterSubscription: requireString("deadLetterSubscription", deadLetterSubscription, { allowEmpty: true }),
                 maxDeliveries: optionalNumber("maxDeliveries", maxDeliveries) },
    });
    return this.#subscription(response.subscription);
  }
  async deleteSubscription(subscription) {
    await this.#unary("DeleteSubscription", { subscription: requireString("subscription", subscription) });
  }
  async listSubscriptions(topic, { pageSize = 0, continuationToken = "" } = {}) {
    const response = await this.#unary("ListSubscriptions", {
      topic: requireString("topic", topic), pageSize: optionalNumber("pageSize", pageSize),
      continuationToken: requireString("continuationToken", continuationToken, { allowEmpty: true }),
    });
    return { subscriptions: response.subscriptions.map((s) => this.#subscription(s)),
             nextContinuationToken: response.nextContinuationToken };
  }
  // Resolves to { messageId, subscriptions } (how many subscriptions it reached).
  async publish(topic, body, { attributes } = {}) {
    const response = await this.#unary("Publish", {
      topic: requireString("topic", topic), body: toBytes("message", body), attributes: stringMap("attributes", attributes),
    });
    return { messageId: response.messageId, subscriptions: response.subscriptions };
  }
  // messages: [{ body, attributes? }], published atomically.
  async publishBatch(topic, messages) {
    if (!Array.isArray(messages)) throw invalidArgument("messages must be an array of {body, attributes}");
    const response = await this.#unary("PublishBatch", {
      topic: requireString("topic", topic),
      entries: messages.map((m) => ({ body: toBytes("message", m?.body), attributes: stringMap("attributes", m.attributes) })),
    });
    return response.results.map((r) => ({ messageId: r.messageId, subscriptions: r.subscriptions }));
  }
  // Resolves to { acked, staleAckIds } (ids no longer current change nothing).
  async ack(subscription, ackIds) {
    const response = await this.#unary("Ack", { subscription: requireString("subscription", subscription),
                                                ackIds: this.#ackIds(ackIds) }, "AckMessages");
    return { acked: response.acked, staleAckIds: response.staleAckIds };
  }
  // Deliverable again at once. Resolves to { nacked, staleAckIds }.
  async nack(subscription, ackIds) {
    const response = await this.#unary("Nack", { subscription: requireString("subscription", subscription),
                                                 ackIds: this.#ackIds(ackIds) }, "NackMessages");
    return { nacked: response.nacked, staleAckIds: response.staleAckIds };
  }

  // The subscription's messages as an async iterator of { messageId, ackId,
  // body (Uint8Array), attributes, deliveryCount, publishTimeMs,
  // ackDeadlineMs, ack(), nack() }. The stream opens on the first next();
  // the daemon sends at most `window` messages the consumer has not pulled
  // yet (a credit per message pulled), and the iterator sends heartbeats
  // while it is open. return() (a `break` out of for-await) ends the call;
  // messages not acked come back after their ack deadline. A failure (the
  // subscription does not exist or was deleted) rejects next().
  subscribe(subscription, { window = 1 } = {}) {
    requireString("subscription", subscription);
    if (!Number.isInteger(window) || window < 1 || window > 1000) throw invalidArgument("window must be an integer from 1 to 1000");
    const pubsub = this, binding = this.binding;
    const timeoutMs = binding.client.timeoutMs;
    const buffered = [], waiting = [];
    let call = null, heartbeat = null, failure = null, over = false;
    const stop = () => {
      over = true;
      clearInterval(heartbeat);
    };
    const settle = () => {
      while (waiting.length > 0 && (buffered.length > 0 || failure || over)) {
        const { resolve, reject } = waiting.shift();
        if (buffered.length > 0) {
          resolve({ value: buffered.shift(), done: false });
          if (!call.ended) call.send(FrameKind.CREDIT, undefined, { credits: 1 });  // pulled: room for one more
        } else if (failure) {
          reject(failure);
        } else {
          resolve({ value: undefined, done: true });
        }
      }
    };
    const message = (d) => ({
      messageId: d.messageId, ackId: d.ackId, body: d.body, attributes: d.attributes, deliveryCount: d.deliveryCount,
      publishTimeMs: Number(d.publishTimeMs), ackDeadlineMs: Number(d.ackDeadlineMs),
      ack: () => pubsub.ack(subscription, [d.ackId]), nack: () => pubsub.nack(subscription, [d.ackId]),
    });
    const open = () => {
      call = binding.client.pool.call(binding.actorFor("pubsub"), (envelope, bytes) => {
        if (failed(envelope)) {
          failure = errorFrom(envelope.status);
          stop();
        } else if (envelope.kind === FrameKind.DATA) {
          const delivery = fromBinary(pspb.DeliverySchema, bytes);
          if (!delivery.heartbeat) buffered.push(message(delivery));
        }
        settle();
      }, timeoutMs);
      call.send(FrameKind.REQUEST, toBinary(pspb.SubscribeRequestSchema, create(pspb.SubscribeRequestSchema, { subscription })),
                { method: binding.client.methodOf("pubsub", "Subscribe"), credits: window, timeoutMs });
      // The call's timeout bounds the silence between the page's frames (docs/protocol.md).
      heartbeat = setInterval(() => { if (!call.ended) call.send(FrameKind.CREDIT, undefined, { credits: 0 }); },
                              Math.max(1, Math.min(5000, Math.floor(timeoutMs / 3))));
    };
    return {
      [Symbol.asyncIterator]() { return this; },
      next() {
        try {
          if (!call && !over) open();
        } catch (error) {
          return Promise.reject(error);
        }
        return new Promise((resolve, reject) => {
          waiting.push({ resolve, reject });
          settle();
        });
      },
      async return() {
        if (call && !call.ended) {
          call.send(FrameKind.CANCEL);
          call.end();
        }
        buffered.length = 0;
        stop();
        settle();
        return { value: undefined, done: true };
      },
    };
  }
}

// Versioned secrets: every put is a new version (numbered from 1); values
// come back as Uint8Array. Errors name the secret, never its value.
class Secrets {
  constructor(binding) { this.binding = binding; }
  // `messages` is the stem of the rpc's messages ("GetSecret" for Get).
  #unary(rpc, messages, init) {
    return this.binding.unary("secrets", rpc, secretspb[`${messages}RequestSchema`],
                              secretspb[`${messages}ResponseSchema`], init);
  }

  async put(name, value) {
    const response = await this.#unary("Put", "PutSecret", { name: requireString("name", name), value: toBytes("value", value) });
    return { version: Number(response.version), createdAtMs: Number(response.createdAtMs) };
  }
  // The latest version, or `version`. Resolves to { name, version, value, createdAtMs }.
  async get(name, { version } = {}) {
    const response = await this.#unary("Get", "GetSecret", {
      name: requireString("name", name), version: BigInt(optionalNumber("version", version)),
    });
    return { name: response.name, version: Number(response.version), value: response.value,
             createdAtMs: Number(response.createdAtMs) };
  }
  // One page of names (never values): { secrets, nextContinuationToken }.
  async list({ prefix = "", pageSize = 0, continuationToken = "" } = {}) {
    const response = await this.#unary("List", "ListSecrets", {
      prefix: requireString("prefix", prefix, { allowEmpty: true }), pageSize: optionalNumber("pageSize", pageSize),
      continuationToken: requireString("continuationToken", continuationToken, { allowEmpty: true }),
    });
    return {
      secrets: response.secrets.map((s) => ({ name: s.name, latestVersion: Number(s.latestVersion),
                                              createdAtMs: Number(s.createdAtMs), updatedAtMs: Number(s.updatedAtMs) })),
      nextContinuationToken: response.nextContinuationToken,
    };
  }
  // The versions kept, oldest first: [{ version, createdAtMs }].
  async versions(name) {
    const response = await this.#unary("ListVersions", "ListSecretVersions", { name: requireString("name", name) });
    return response.versions.map((v) => ({ version: Number(v.version), createdAtMs: Number(v.createdAtMs) }));
  }
  // Deletes every version; resolves to how many there were (NOT_FOUND when none).
  async delete(name) {
    return (await this.#unary("Delete", "DeleteSecret", { name: requireString("name", name) })).versionsDeleted;
  }
}

export class CloudKit {
  // Options: workers (default 2), bindings ([{name, provider, services?,
  // options?, credentials?}], default one `memory` binding named "default";
  // credentials are the provider's secrets, e.g. an `s3` binding's
  // access_key_id, secret_access_key and session_token, an `azure` one's
  // account_name and account_key), timeoutMs
  // (per call, and for start() itself; default 30000, 0 = none), workerUrl
  // (default: worker.js next to this module).
  static async start({ workers = 2, bindings = [{ name: "default", provider: "memory" }], timeoutMs = 30000,
                       workerUrl = new URL("./worker.js", import.meta.url) } = {}) {
    // Everything that can be checked before a worker starts is.
    if (!Number.isInteger(workers) || workers < 1) throw invalidArgument("workers must be a positive integer");
    if (!Array.isArray(bindings) || bindings.length === 0) throw invalidArgument("bindings must be a non-empty array");
    const seen = new Set();
    for (const b of bindings) {
      const name = requireString("binding name", b?.name);
      if (seen.has(name)) throw invalidArgument(`binding '${name}' is given twice`);
      seen.add(name);
    }
    const callTimeoutMs = optionalNumber("timeoutMs", timeoutMs);
    const scriptUrl = absoluteUrl("workerUrl", workerUrl);
    let pool;
    try {
      pool = new WorkerPool(scriptUrl, workers);
    } catch (error) {  // e.g. a SecurityError: a worker script of another origin
      throw invalidArgument(`workerUrl ${scriptUrl} cannot start a worker: ${error.message}`);
    }
    const ck = new CloudKit(pool, callTimeoutMs);
    const starting = (async () => {
      await ck.pool.ready();
      Object.assign(ck, servicesFrom(ck.pool.description));
      // Validate everything first, then create every actor at once: workers
      // open their storage in parallel rather than one actor after another.
      const specs = bindings.map((b) => {
        const name = requireString("binding name", b?.name);
        const provider = requireString("provider", b.provider);
        // Every service the provider has, unless the binding names some.
        const services = b.services ?? ck.providers.get(provider) ?? [...ck.services.keys()];
        for (const service of services) {
          if (!ck.services.has(service)) {
            throw invalidArgument(`binding '${name}': unknown service '${service}' (known: ${[...ck.services.keys()].join(", ")})`);
          }
        }
        return withCredentials({ name, provider, services, options: stringMap(`binding '${name}': options`, b.options) },
                               stringMap(`binding '${name}': credentials`, b.credentials));
      });
      await Promise.all(specs.map(async (spec) => {
        const { name, provider, services, options } = spec;
        const actors = {};
        await Promise.all(services.map(async (service) => {
          actors[service] = await ck.pool.spawn(withCredentials({ binding: name, provider, service, options }, spec.credentials));
        }));
        ck.bindings.set(name, new Binding(ck, name, actors));
      }));
      // The first binding given is the default one, whatever order they came up in.
      ck.bindings = new Map(specs.map(({ name }) => [name, ck.bindings.get(name)]));
    })();
    starting.catch(() => {});  // after the deadline, its failure (the pool stopped) is nobody's
    // Starting is bounded as a call is: a worker script or wasm that the
    // server never answers fails start() instead of leaving it pending.
    let timer;
    const deadline = new Promise((_, reject) => {
      if (callTimeoutMs === 0) return;
      timer = setTimeout(() => {
        const loaded = ck.pool.workers.filter((w) => w.loaded).length;
        reject(new CloudKitError(StatusCode.DEADLINE_EXCEEDED,
          `deadline exceeded: CloudKit did not start within ${callTimeoutMs} ms (${loaded} of ${workers} workers from ${scriptUrl} loaded)`,
          { retryable: true }));
      }, Math.min(callTimeoutMs, 2 ** 31 - 1));  // setTimeout fires at once beyond 2^31-1 ms
    });
    try {
      await Promise.race([starting, deadline]);
    } catch (error) {
      ck.pool.terminate();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const first = ck.bindings.values().next().value;
    ck.storage = first.storage;
    ck.kv = first.kv;
    ck.queue = first.queue;
    ck.pubsub = first.pubsub;
    ck.secrets = first.secrets;
    return ck;
  }

  // "cloudkit.v1.KeyValue/Get" for ("key_value", "Get").
  methodOf(service, rpc) { return this.services.get(service).prefix + rpc; }

  constructor(pool, timeoutMs) {
    this.pool = pool;
    this.timeoutMs = timeoutMs;
    this.services = new Map();   // service name -> {prefix, streams}
    this.providers = new Map();  // provider name -> its services
    this.bindings = new Map();
  }

  binding(name) {
    const binding = this.bindings.get(name);
    if (!binding) throw new CloudKitError(StatusCode.NOT_FOUND, `not found: binding '${name}'`);
    return binding;
  }

  // Scheduler facts for tests and dashboards.
  get stats() { return { workers: this.pool.workers.length, restarts: this.pool.restarts, inFlight: this.pool.calls.size }; }
  // Kills worker `index` (0 to stats.workers - 1) as a crash would (tests,
  // demos of recovery); the pool replaces it. Does nothing once stopped.
  killWorker(index) {
    if (!Number.isInteger(index) || index < 0 || index >= this.pool.workers.length) {
      throw invalidArgument(`worker index must be an integer from 0 to ${this.pool.workers.length - 1}, got ${String(index)}`);
    }
    if (!this.pool.terminated) this.pool.kill(index);
  }

  // Terminates every worker at once. Calls in flight, and every call made
  // afterwards, reject with UNAVAILABLE (not retryable); IndexedDB keeps what
  // `local` bindings wrote and acknowledged. Idempotent.
  async stop() { this.pool.terminate(); }
}

export default CloudKit;
