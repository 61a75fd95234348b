// The page <-> worker frame format (src/frames.js) under Node: packing keeps
// every byte and flag, the large-body threshold, and a frame whose header
// claims more envelope than it carries is refused, not read past its end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { packs, packFrame, unpackFrame, packedActorId, TRANSFER_THRESHOLD } from "../src/frames.js";

const bytes = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

test("a packed frame unpacks to the same actor, bytes and flag", () => {
  for (const [envelopeSize, bodySize, endsCall] of [[0, 0, false], [35, 12, true], [200, 65535, false]]) {
    const envelope = bytes(envelopeSize, 1), body = bytes(bodySize, 2);
    const packed = packFrame(0xfffffffe, envelope, body, endsCall);
    const frame = unpackFrame(packed);
    assert.equal(frame.actorId, 0xfffffffe);
    assert.equal(packedActorId(packed), 0xfffffffe);
    assert.deepEqual(frame.envelope, envelope);
    assert.deepEqual(frame.body, body);
    assert.equal(frame.endsCall, endsCall);
  }
});

test("views are read from their offset, not from the start of their buffer", () => {
  const heap = bytes(1000, 3);
  const frame = unpackFrame(packFrame(7, heap.subarray(100, 140), heap.subarray(500, 510)));
  assert.deepEqual(frame.envelope, heap.slice(100, 140));
  assert.deepEqual(frame.body, heap.slice(500, 510));
  // and a packed frame that is itself a view unpacks from its own offset
  const packed = packFrame(9, bytes(5, 4), bytes(6, 5), true);
  const outer = new Uint8Array(packed.length + 16);
  outer.set(packed, 16);
  const inner = unpackFrame(outer.subarray(16));
  assert.equal(inner.actorId, 9);
  assert.deepEqual(inner.body, bytes(6, 5));
});

test("bodies from the threshold up are transferred instead of packed", () => {
  assert.equal(packs(new Uint8Array(TRANSFER_THRESHOLD - 1)), true);
  assert.equal(packs(new Uint8Array(TRANSFER_THRESHOLD)), false);
});

test("a header claiming more envelope than the frame holds is refused", () => {
  const packed = packFrame(1, bytes(10, 6), bytes(0, 0));
  assert.throws(() => unpackFrame(packed.subarray(0, packed.length - 1)), RangeError);
  assert.throws(() => unpackFrame(new Uint8Array(4)), RangeError);
});
