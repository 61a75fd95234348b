// The JS half of the browser storage port (wasm/indexeddb_storage.cc): each
// call takes a serialized cloudkit.web.v1.StorageRequest and resolves to a
// serialized StorageReply (it never rejects). Many calls are in flight at
// once; each creates its transaction synchronously, when it is made, so the
// transactions of one database run in the order the core asked for them —
// except that writes to `entries` asked for while one is committing wait and
// then commit together, in one "strict" transaction (group commit, as the
// native SQLite store does); reads asked for after a waiting write wait with
// it, and start right after its transaction, so a read always sees the writes
// asked for before it. open(name) returns a handle at once; calls on it wait
// for the database to open. One IndexedDB database per location,
// with stores `entries` (ordered map, binary keys), `chunks` ([blobId, n] ->
// 256 KiB of a blob) and `blobs` (blobId -> size; written last, so a blob
// exists only once all its chunks do).
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { StorageReplySchema, StorageRequestSchema } from "./gen/cloudkit/web/v1/worker_pb.js";
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";

const DB_VERSION = 1;
const buf = (bytes) => bytes.slice().buffer;  // an ArrayBuffer key of exactly these bytes
const sameBytes = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);
// Bytes as a string of one char per byte: compares as the bytes do.
const byteString = (bytes) => Array.from(bytes, (b) => String.fromCharCode(b)).join("");

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
  // handle -> {db: the IDBDatabase once open, opening: a promise of it,
  // writing: an entries write commits, waiting: calls held behind it}.
  // Once open, a call gets the database synchronously and creates its
  // transaction in call order. Calls made while it opens go on in call order
  // when it does (the opener sets `db` before resolving, and no new call runs
  // between the two).
  const dbs = new Map();
  let nextHandle = 1;
  const stateOf = (handle) => {
    const found = dbs.get(Number(handle));
    if (!found) throw Object.assign(new Error(`no open database ${handle}`), { statusCode: StatusCode.INTERNAL });
    return found;
  };

  // Group commit of `entries` writes. While a write transaction commits,
  // later writes, and reads asked for after them, wait in state.waiting.
  // Resolves to one reply per request: {} once durable, or ABORTED for a
  // request whose expectations did not hold (it wrote nothing; the others
  // did). IndexedDB runs a readwrite transaction alone among all the
  // origin's connections to the database, so the checks and the writes after
  // them are atomic across tabs.
  function writeGroup(state, d, requests) {
    let done;
    try {
      const tx = d.transaction("entries", "readwrite", { durability: "strict" });
      const replies = applyInOrder(tx, requests);
      done = Promise.all([replies, finished(tx)]).then(([r]) => r);
    } catch (error) {
      done = Promise.reject(error);
    }
    state.writing = true;
    const next = () => startWaiting(state, d);
    done.then(next, next);
    return done;
  }
  // Reads what every expectation of the group names at once, inside the
  // transaction (one wait, for a group of any size; none when no request
  // has expectations), then queues the requests' writes in order, judging
  // each request on those reads as the writes before it in the group changed
  // them. A range one of them emptied still counts as not empty: a spurious
  // ABORTED costs a retry, never a wrong answer.
  async function applyInOrder(tx, requests) {
    const store = tx.objectStore("entries");
    const replies = [];
    try {
      const conditional = requests.some((req) => req.expected.length > 0 || req.emptyRanges.length > 0);
      const reads = conditional ? await readExpected(store, requests) : null;
      const written = new Map();  // what the group wrote so far: byte string of the key -> value (null: deleted)
      requests.forEach((req, i) => {
        if (reads && !expectationsHold(req, reads[i], written)) {
          replies.push({ code: StatusCode.ABORTED, message: "aborted: a key the write read has changed since" });
          return;
        }
        for (const op of req.ops) {
          if (op.remove) store.delete(buf(op.key));
          else store.put(buf(op.value), buf(op.key));
          if (reads) written.set(byteString(op.key), op.remove ? null : op.value);
        }
        replies.push({});
      });
    } catch (error) {
      tx.abort();  // nothing of the group may commit
      throw error;
    }
    return replies;
  }
  // Per request: the stored value of each expected key, and the first key
  // of each range that should be empty (undefined: none).
  function readExpected(store, requests) {
    return Promise.all(requests.map(async (req) => {
      const values = req.expected.map((e) => promised(store.get(buf(e.key))));
      const firsts = req.emptyRanges.map(({ start, end }) =>
        promised(store.getKey(end.length > 0 ? IDBKeyRange.bound(buf(start), buf(end), false, true) : IDBKeyRange.lowerBound(buf(start)))));
      const [current, found] = await Promise.all([Promise.all(values), Promise.all(firsts)]);
      return { current, found };
    }));
  }
  function expectationsHold(req, { current, found }, written) {
    const valueNow = (e, i) => {
      const key = byteString(e.key);
      if (written.has(key)) return written.get(key) ?? undefined;
      return current[i] === undefined ? undefined : new Uint8Array(current[i]);
    };
    const keysHold = req.expected.every((e, i) => {
      const value = valueNow(e, i);
      return e.remove ? value === undefined : value !== undefined && sameBytes(e.value, value);
    });
    const rangesHold = req.emptyRanges.every(({ start, end }, i) => {
      if (found[i] !== undefined) return false;
      const [from, to] = [byteString(start), byteString(end)];
      for (const [key, value] of written) if (value !== null && key >= from && (to === "" || key < to)) return false;
      return true;
    });
    return keysHold && rangesHold;
  }
  function startWaiting(state, d) {
    state.writing = false;
    const waiting = state.waiting;
    state.waiting = [];
    const writes = waiting.filter((w) => w.write);
    if (writes.length > 0) {
      const group = writeGroup(state, d, writes.map((w) => w.write));
      group.then((replies) => writes.forEach((w, i) => w.resolve(replies[i])), (error) => writes.forEach((w) => w.reject(error)));
    }
    for (const w of waiting) if (w.read) w.read().then(w.resolve, w.reject);
  }
  function entries(state, d, op, req) {
    if (op === "write") {
      if (!state.writing) return writeGroup(state, d, [req]).then(([reply]) => reply);
      return new Promise((resolve, reject) => state.waiting.push({ write: req, resolve, reject }));
    }
    if (state.waiting.length === 0) return ops[op](req, d);
    return new Promise((resolve, reject) => state.waiting.push({ read: () => ops[op](req, d), resolve, reject }));
  }

  function open(name) {
    const state = { db: null, opening: null, writing: false, waiting: [] };
    state.opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(`cloudkit:${name}`, DB_VERSION);
      request.onupgradeneeded = () => {
        const d = request.result;
        for (const store of ["entries", "chunks", "blobs"]) {
          if (!d.objectStoreNames.contains(store)) d.createObjectStore(store);
        }
      };
      request.onsuccess = () => { state.db = request.result; resolve(state.db); };
      request.onerror = () => reject(request.error);
    });
    state.opening.catch(() => {});  // each call reports the failure
    const handle = nextHandle++;
    dbs.set(handle, state);
    return handle;
  }

  const ops = {
    async get(req, d) {
      const value = await promised(d.transaction("entries").objectStore("entries").get(buf(req.key)));
      return value === undefined ? { found: false } : { found: true, value: new Uint8Array(value) };
    },
    async scan(req, d) {
      const { start, end } = req;
      const limit = Number(req.count);
      const range = end.length > 0 ? IDBKeyRange.bound(buf(start), buf(end), false, true) : IDBKeyRange.lowerBound(buf(start));
      const store = d.transaction("entries").objectStore("entries");
      const [keys, values] = await Promise.all([promised(store.getAllKeys(range, limit)), promised(store.getAll(range, limit))]);
      return { keys: keys.map((k) => new Uint8Array(k)), values: values.map((v) => new Uint8Array(v)) };
    },
    write: null,  // entries(): grouped
    async blob_new_id() { return { message: crypto.randomUUID() }; },
    async chunk_put(req, d) {
      const tx = d.transaction("chunks", "readwrite", { durability: "relaxed" });
      tx.objectStore("chunks").put(buf(req.data), [req.name, Number(req.count)]);
      await finished(tx);
      return {};
    },
    async chunk_get(req, d) {
      const value = await promised(d.transaction("chunks").objectStore("chunks").get([req.name, Number(req.count)]));
      return value === undefined ? { found: false } : { found: true, value: new Uint8Array(value) };
    },
    async blob_commit(req, d) {
      // Strict durability here also flushes the relaxed chunk writes before it.
      const tx = d.transaction("blobs", "readwrite", { durability: "strict" });
      tx.objectStore("blobs").put(Number(req.count), req.name);
      await finished(tx);
      return {};
    },
    async blob_size(req, d) {
      const size = await promised(d.transaction("blobs").objectStore("blobs").get(req.name));
      return size === undefined ? { found: false } : { found: true, number: BigInt(size) };
    },
    async blob_remove(req, d) {
      const tx = d.transaction(["blobs", "chunks"], "readwrite", { durability: "relaxed" });
      tx.objectStore("blobs").delete(req.name);
      tx.objectStore("chunks").delete(IDBKeyRange.bound([req.name, 0], [req.name, Infinity]));
      await finished(tx);
      return {};
    },
  };

  return {
    open,
    async call(op, requestBytes) {
      let reply;
      try {
        const handler = ops[op];
        if (!(op in ops)) throw Object.assign(new Error(`unknown storage op '${op}'`), { statusCode: StatusCode.INTERNAL });
        const req = fromBinary(StorageRequestSchema, requestBytes);
        const state = op === "blob_new_id" ? null : stateOf(req.db);
        const run = (d) => (op === "get" || op === "scan" || op === "write" ? entries(state, d, op, req) : handler(req, d));
        // Synchronous up to the transaction's creation when the database is
        // open; calls made while it opens go on in call order when it is.
        reply = await (!state ? handler(req) : state.db ? run(state.db) : state.opening.then(run));
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
