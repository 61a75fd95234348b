// The JS half of the browser storage port (wasm/indexeddb_storage.cc): each
// call takes a serialized cloudkit.web.v1.StorageRequest and resolves to a
// serialized StorageReply. One IndexedDB database per location,
// with stores `entries` (ordered map, binary keys), `chunks` ([blobId, n] ->
// 256 KiB of a blob) and `blobs` (blobId -> size; written last, so a blob
// exists only once all its chunks do).
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { StorageReplySchema, StorageRequestSchema } from "./gen/cloudkit/web/v1/worker_pb.js";
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";

const DB_VERSION = 1;
const buf = (bytes) => bytes.slice().buffer;  // an ArrayBuffer key of exactly these bytes

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

export function createIdbStorage(indexedDB) {
  const dbs = new Map();
  let nextHandle = 1;
  const db = (handle) => {
    const found = dbs.get(Number(handle));
    if (!found) throw Object.assign(new Error(`no open database ${handle}`), { statusCode: StatusCode.INTERNAL });
    return found;
  };

  const ops = {
    async open(req) {
      const request = indexedDB.open(`cloudkit:${req.name}`, DB_VERSION);
      request.onupgradeneeded = () => {
        const d = request.result;
        for (const store of ["entries", "chunks", "blobs"]) {
          if (!d.objectStoreNames.contains(store)) d.createObjectStore(store);
        }
      };
      const handle = nextHandle++;
      dbs.set(handle, await promised(request));
      return { number: BigInt(handle) };
    },
    async get(req) {
      const value = await promised(db(req.db).transaction("entries").objectStore("entries").get(buf(req.key)));
      return value === undefined ? { found: false } : { found: true, value: new Uint8Array(value) };
    },
    async scan(req) {
      const { start, end } = req;
      const limit = Number(req.count);
      const range = end.length > 0 ? IDBKeyRange.bound(buf(start), buf(end), false, true) : IDBKeyRange.lowerBound(buf(start));
      const store = db(req.db).transaction("entries").objectStore("entries");
      const [keys, values] = await Promise.all([promised(store.getAllKeys(range, limit)), promised(store.getAll(range, limit))]);
      return { keys: keys.map((k) => new Uint8Array(k)), values: values.map((v) => new Uint8Array(v)) };
    },
    async write(req) {
      const tx = db(req.db).transaction("entries", "readwrite", { durability: "strict" });
      const store = tx.objectStore("entries");
      for (const op of req.ops) {
        if (op.remove) store.delete(buf(op.key));
        else store.put(buf(op.value), buf(op.key));
      }
      await finished(tx);
      return {};
    },
    async blob_new_id() { return { message: crypto.randomUUID() }; },
    async chunk_put(req) {
      const tx = db(req.db).transaction("chunks", "readwrite", { durability: "relaxed" });
      tx.objectStore("chunks").put(buf(req.data), [req.name, Number(req.count)]);
      await finished(tx);
      return {};
    },
    async chunk_get(req) {
      const value = await promised(db(req.db).transaction("chunks").objectStore("chunks").get([req.name, Number(req.count)]));
      return value === undefined ? { found: false } : { found: true, value: new Uint8Array(value) };
    },
    async blob_commit(req) {
      // Strict durability here also flushes the relaxed chunk writes before it.
      const tx = db(req.db).transaction("blobs", "readwrite", { durability: "strict" });
      tx.objectStore("blobs").put(Number(req.count), req.name);
      await finished(tx);
      return {};
    },
    async blob_size(req) {
      const size = await promised(db(req.db).transaction("blobs").objectStore("blobs").get(req.name));
      return size === undefined ? { found: false } : { found: true, number: BigInt(size) };
    },
    async blob_remove(req) {
      const tx = db(req.db).transaction(["blobs", "chunks"], "readwrite", { durability: "relaxed" });
      tx.objectStore("blobs").delete(req.name);
      tx.objectStore("chunks").delete(IDBKeyRange.bound([req.name, 0], [req.name, Infinity]));
      await finished(tx);
      return {};
    },
  };

  return {
    async call(op, requestBytes) {
      let reply;
      try {
        const handler = ops[op];
        if (!handler) throw Object.assign(new Error(`unknown storage op '${op}'`), { statusCode: StatusCode.INTERNAL });
        reply = await handler(fromBinary(StorageRequestSchema, requestBytes));
      } catch (error) {
        const quota = error?.name === "QuotaExceededError";
        reply = {
          code: error.statusCode ?? (quota ? StatusCode.RESOURCE_EXHAUSTED : StatusCode.UNAVAILABLE),
          message: `${quota ? "resource exhausted" : "unavailable"}: IndexedDB ${op}: ${error.message ?? error}`,
        };
      }
      return toBinary(StorageReplySchema, create(StorageReplySchema, reply));
    },
  };
}
