// TypeScript declarations of the worker bundle's API (cloudkit.js). Every
// result is a plain object of the shape declared here (never a protobuf
// message): times are numbers of milliseconds since the Unix epoch, sizes
// numbers of bytes, binary values Uint8Array. The declarations stand alone:
// they need no other package's types.

/** The protocol's status codes (proto/cloudkit/v1/status.proto); a value at run time too. */
export declare enum StatusCode {
  OK = 0,
  /** The request is malformed or names something invalid. */
  INVALID_ARGUMENT = 1,
  /** Bucket, object, table, key, queue, topic, subscription or secret does not exist. */
  NOT_FOUND = 2,
  /** Create of something that exists; put-if-absent on a present key. */
  ALREADY_EXISTS = 3,
  /** if-match / if-none-match failed; delete of a non-empty bucket. */
  FAILED_PRECONDITION = 4,
  /** Conflict with a concurrent change; safe to retry the whole operation. */
  ABORTED = 5,
  UNAUTHENTICATED = 6,
  PERMISSION_DENIED = 7,
  /** A size, rate or concurrency limit was hit. */
  RESOURCE_EXHAUSTED = 8,
  /** Cannot serve now: stopped, a worker died, a backend is down. */
  UNAVAILABLE = 9,
  DEADLINE_EXCEEDED = 10,
  /** The binding's provider lacks the operation. */
  UNIMPLEMENTED = 11,
  INTERNAL = 12,
}

/** Every failure: the protocol's status code, as cloudkitd reports it. */
export declare class CloudKitError extends Error {
  readonly code: StatusCode;
  /** The code's name, e.g. "NOT_FOUND". */
  readonly codeName: keyof typeof StatusCode;
  /** Whether the same call may succeed if made again. */
  readonly retryable: boolean;
  /** When retryable: how long to wait first; 0 = no hint. */
  readonly retryAfterMs: number;
}

export interface Bucket {
  name: string;
  createdMs: number;
}
export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Quoted, as HTTP has it. */
  etag: string;
  lastModifiedMs: number;
  contentType: string;
  metadata: Record<string, string>;
}
export interface ListObjectsResult {
  objects: ObjectInfo[];
  /** With a delimiter: the distinct key prefixes up to and including it. */
  commonPrefixes: string[];
  /** Empty on the last page. */
  nextContinuationToken: string;
}
export interface DeleteObjectsResult {
  /** Every valid key given (absent now, whether or not it existed). */
  deleted: string[];
  errors: Array<{ key: string; error: CloudKitError }>;
}
export interface Item {
  key: string;
  /** Empty in a keysOnly listing. */
  value: Uint8Array;
  etag: string;
  /** 0 = never. */
  expiresAtMs: number;
}
export interface ListItemsResult {
  items: Item[];
  /** Empty on the last page. */
  nextContinuationToken: string;
}
export interface BatchGetResult {
  items: Item[];
  missing: string[];
}
export interface QueueOptions {
  fifo: boolean;
  visibilityTimeoutMs: number;
  /** With deadLetterQueue: receives after which a message moves there (0 = none). */
  maxReceives: number;
  deadLetterQueue: string;
}

export type Bytes = string | Uint8Array | ArrayBuffer | ArrayBufferView;
export type Body = Bytes | Blob | ReadableStream<Uint8Array>;

export interface BindingConfig {
  name: string;
  /**
   * "memory" (in the worker, gone when it stops), "local" (IndexedDB, persists), "s3" (AWS S3 or an
   * S3-compatible service, over fetch; the bucket's CORS rules must allow the page: docs/browser.md) or
   * "azure" (Azure Blob and Table, over fetch; the account's CORS rules must allow the page).
   */
  provider: "memory" | "local" | "s3" | "azure";
  /** Default: every service the provider has (an `azure` binding with a container only, or a table only, lists it). */
  services?: Array<"object_storage" | "key_value" | "queue" | "pubsub" | "secrets">;
  /**
   * Provider options; `local` takes `path`, the database name prefix; `s3` takes `bucket`, `prefix`,
   * `region`, `endpoint`, `path_style`, `conditional_writes`, `part_size_mb`, `parallel_parts`; `azure`
   * takes `container`, `prefix`, `endpoint`, `create_container`, `block_size_mb`, `parallel_blocks`,
   * `table`, `table_endpoint`, `create_table`; both take the remote options (timeouts, retries), as in
   * cloudkitd's configuration.
   */
  options?: Record<string, string>;
  /**
   * Secrets, kept apart from the options and never shown (not enumerable on anything the page keeps);
   * `s3` takes `access_key_id`, `secret_access_key` and `session_token`; `azure` takes `account_name`
   * and `account_key`, or `connection_string`. Whatever a page holds, its users can read: give it
   * temporary credentials (with `session_token`) scoped to what it may do, never long-lived keys (an
   * Azure account key is one), or have a server hand out presigned URLs instead.
   */
  credentials?: Record<string, string>;
}

export interface StartOptions {
  /** Web Workers in the pool (default 2). */
  workers?: number;
  /**
   * Default: one memory binding named "default". The first is `ck.storage` / `ck.kv` / `ck.queue` /
   * `ck.pubsub` / `ck.secrets`.
   */
  bindings?: BindingConfig[];
  /**
   * Per-call deadline in ms (default 30000; streams: per frame; 0: none). Also bounds `start()`
   * itself: workers not up by then reject it with a retryable DEADLINE_EXCEEDED.
   */
  timeoutMs?: number;
  /** Where worker.js is, if not next to cloudkit.js (resolved against the page; INVALID_ARGUMENT if not a URL). */
  workerUrl?: string | URL;
}

export interface GetObjectResult {
  object: ObjectInfo;
  rangeStart: number;
  contentLength: number;
  /** The content, pulled from the worker under flow control. */
  body: ReadableStream<Uint8Array>;
  blob(): Promise<Blob>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface Storage {
  createBucket(bucket: string): Promise<Bucket>;
  deleteBucket(bucket: string): Promise<void>;
  listBuckets(): Promise<Bucket[]>;
  bucketExists(bucket: string): Promise<boolean>;
  putObject(bucket: string, key: string, body: Body, options?: {
    contentType?: string; metadata?: Record<string, string>; ifMatch?: string; ifNoneMatch?: boolean;
  }): Promise<ObjectInfo>;
  getObject(bucket: string, key: string, options?: {
    range?: { start: number; length?: number }; ifMatch?: string; ifNoneMatch?: string;
  }): Promise<GetObjectResult>;
  headObject(bucket: string, key: string): Promise<ObjectInfo>;
  /** Resolves to whether the object existed. */
  deleteObject(bucket: string, key: string, options?: { ifMatch?: string }): Promise<boolean>;
  deleteObjects(bucket: string, keys: string[]): Promise<DeleteObjectsResult>;
  copyObject(sourceBucket: string, sourceKey: string, bucket: string, key: string,
             options?: { ifMatch?: string }): Promise<ObjectInfo>;
  /** A URL to GET or PUT the object without credentials until it expires (`s3`, `azure`: a blob SAS; others: UNIMPLEMENTED). */
  presignObject(bucket: string, key: string, options?: { method?: "GET" | "PUT"; expiresSeconds?: number }):
    Promise<{ url: string; method: string; expiresMs: number }>;
  listObjects(bucket: string, options?: {
    prefix?: string; delimiter?: string; pageSize?: number; continuationToken?: string;
  }): Promise<ListObjectsResult>;
}

export interface KeyValue {
  get(table: string, key: string): Promise<Item>;
  put(table: string, key: string, value: Bytes, options?: { ifAbsent?: boolean; ifMatch?: string; ttlMs?: number }):
    Promise<{ etag: string; expiresAtMs: number }>;
  /** Resolves to whether the item existed. */
  delete(table: string, key: string, options?: { ifMatch?: string }): Promise<boolean>;
  exists(table: string, key: string): Promise<boolean>;
  list(table: string, options?: { prefix?: string; pageSize?: number; continuationToken?: string; keysOnly?: boolean }):
    Promise<ListItemsResult>;
  batchGet(table: string, keys: string[]): Promise<BatchGetResult>;
  /** Written atomically; resolves to the new ETags in entry order. */
  batchPut(table: string, entries: Array<{ key: string; value: Bytes; ttlMs?: number }>): Promise<string[]>;
}

export interface QueueInfo {
  name: string;
  options: QueueOptions;
  createdMs: number;
}

export interface MessageOptions {
  attributes?: Record<string, string>;
  /** Invisible this long first (at most 900000). */
  delayMs?: number;
  /** A second send with the same id within 5 minutes resolves with the first's id and enqueues nothing. */
  deduplicationId?: string;
}

export interface ReceivedMessage {
  messageId: string;
  body: Uint8Array;
  attributes: Record<string, string>;
  /** For ack and changeVisibility; stale once the message was received again. */
  receiptHandle: string;
  /** 1 on the first delivery. */
  receiveCount: number;
  sentMs: number;
  /** When it comes back unless acked. */
  invisibleUntilMs: number;
}

/** Message queues with at-least-once delivery (proto/cloudkit/v1/queue.proto). */
export interface Queue {
  create(queue: string, options?: {
    fifo?: boolean; visibilityTimeoutMs?: number; deadLetterQueue?: string; maxReceives?: number;
  }): Promise<QueueInfo>;
  delete(queue: string): Promise<void>;
  list(options?: { prefix?: string; pageSize?: number; continuationToken?: string }):
    Promise<{ queues: QueueInfo[]; nextContinuationToken: string }>;
  send(queue: string, body: Bytes, options?: MessageOptions): Promise<{ messageId: string; duplicate: boolean }>;
  /** Enqueued atomically; results in message order. */
  sendBatch(queue: string, messages: Array<{ body: Bytes } & MessageOptions>):
    Promise<Array<{ messageId: string; duplicate: boolean }>>;
  /** With waitMs (at most 20000), waits until a message arrives or the wait ends: a long poll, no polling. */
  receive(queue: string, options?: { maxMessages?: number; visibilityTimeoutMs?: number; waitMs?: number }):
    Promise<ReceivedMessage[]>;
  /** Deletes a received message; FAILED_PRECONDITION for a stale receipt handle. */
  ack(queue: string, receiptHandle: string): Promise<void>;
  /** Resolves to the receipt handle to use from now on. */
  changeVisibility(queue: string, receiptHandle: string, visibilityTimeoutMs: number):
    Promise<{ receiptHandle: string; invisibleUntilMs: number }>;
  depth(queue: string): Promise<{ visible: number; inFlight: number; delayed: number }>;
  /** Resolves to how many messages it deleted. */
  purge(queue: string): Promise<number>;
}

export interface TopicInfo {
  name: string;
  createdMs: number;
}
export interface SubscriptionInfo {
  name: string;
  topic: string;
  /** Exact match on attributes, every pair; empty: every message. */
  filter: Record<string, string>;
  ackDeadlineMs: number;
  deadLetterSubscription: string;
  maxDeliveries: number;
  createdMs: number;
}
/** One delivery of a message to a subscription. */
export interface SubscribedMessage {
  messageId: string;
  /** Names this delivery: ack and nack take it, from any connection. */
  ackId: string;
  body: Uint8Array;
  attributes: Record<string, string>;
  /** 1 on the first delivery. */
  deliveryCount: number;
  publishTimeMs: number;
  /** When it comes back unless acked. */
  ackDeadlineMs: number;
  ack(): Promise<{ acked: number; staleAckIds: string[] }>;
  /** Deliverable again at once. */
  nack(): Promise<{ nacked: number; staleAckIds: string[] }>;
}
/**
 * Topics and durable subscriptions with at-least-once delivery (proto/cloudkit/v1/pubsub.proto): a publish
 * reaches every subscription of its topic whose filter it matches, atomically.
 */
export interface PubSub {
  createTopic(topic: string): Promise<TopicInfo>;
  /** FAILED_PRECONDITION while the topic has subscriptions. */
  deleteTopic(topic: string): Promise<void>;
  listTopics(options?: { prefix?: string; pageSize?: number; continuationToken?: string }):
    Promise<{ topics: TopicInfo[]; nextContinuationToken: string }>;
  createSubscription(subscription: string, topic: string, options?: {
    filter?: Record<string, string>; ackDeadlineMs?: number; deadLetterSubscription?: string; maxDeliveries?: number;
  }): Promise<SubscriptionInfo>;
  deleteSubscription(subscription: string): Promise<void>;
  listSubscriptions(topic: string, options?: { pageSize?: number; continuationToken?: string }):
    Promise<{ subscriptions: SubscriptionInfo[]; nextContinuationToken: string }>;
  publish(topic: string, body: Bytes, options?: { attributes?: Record<string, string> }):
    Promise<{ messageId: string; subscriptions: number }>;
  /** Published atomically; results in message order. */
  publishBatch(topic: string, messages: Array<{ body: Bytes; attributes?: Record<string, string> }>):
    Promise<Array<{ messageId: string; subscriptions: number }>>;
  /** Ids no longer current (delivered again, nacked, acked) come back in staleAckIds. */
  ack(subscription: string, ackIds: string[]): Promise<{ acked: number; staleAckIds: string[] }>;
  nack(subscription: string, ackIds: string[]): Promise<{ nacked: number; staleAckIds: string[] }>;
  /**
   * The subscription's messages as they arrive, at most `window` (default 1) ahead of the consumer; the
   * stream stays open (with heartbeats) until return(), e.g. a `break` out of for-await.
   */
  subscribe(subscription: string, options?: { window?: number }): AsyncIterableIterator<SubscribedMessage>;
}
/**
 * Versioned secrets (`memory`; `local` in a page declares them unsupported and answers UNIMPLEMENTED:
 * docs/browser.md). Names: 1..255 of [A-Za-z0-9._/-]; values up to 64 KiB; the latest 100 versions kept.
 */
export interface Secrets {
  put(name: string, value: Bytes): Promise<{ version: number; createdAtMs: number }>;
  /** The latest version, or `version`; NOT_FOUND when absent. */
  get(name: string, options?: { version?: number }):
    Promise<{ name: string; version: number; value: Uint8Array; createdAtMs: number }>;
  /** One page of names, in name order, never values. */
  list(options?: { prefix?: string; pageSize?: number; continuationToken?: string }): Promise<{
    secrets: Array<{ name: string; latestVersion: number; createdAtMs: number; updatedAtMs: number }>;
    nextContinuationToken: string;
  }>;
  /** The versions kept, oldest first. */
  versions(name: string): Promise<Array<{ version: number; createdAtMs: number }>>;
  /** Deletes every version; resolves to how many there were. NOT_FOUND when absent. */
  delete(name: string): Promise<number>;
}

export interface Binding {
  readonly name: string;
  readonly storage: Storage;
  readonly kv: KeyValue;
  readonly queue: Queue;
  readonly pubsub: PubSub;
  readonly secrets: Secrets;
}

export declare class CloudKit {
  static start(options?: StartOptions): Promise<CloudKit>;
  /** The first binding's services. */
  readonly storage: Storage;
  readonly kv: KeyValue;
  readonly queue: Queue;
  readonly pubsub: PubSub;
  readonly secrets: Secrets;
  /** Another binding; throws CloudKitError NOT_FOUND for an unknown name. */
  binding(name: string): Binding;
  readonly stats: { workers: number; restarts: number; inFlight: number };
  /**
   * Kills worker `index` (0 to stats.workers - 1; else throws INVALID_ARGUMENT) as a crash would: its calls
   * fail UNAVAILABLE, its actors come back on a new worker. Does nothing after stop().
   */
  killWorker(index: number): void;
  /**
   * Terminates every worker. Calls in flight and every later call reject with UNAVAILABLE, not retryable;
   * what `local` bindings acknowledged stays in IndexedDB. Idempotent.
   */
  stop(): Promise<void>;
}
export default CloudKit;
