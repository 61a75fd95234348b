// How a call's frames cross between the page and a worker. A frame is the
// daemon's wire pair [envelope, body] (protobuf bytes) addressed to or from
// one actor.
// - Small frames travel as one Uint8Array: a 9-byte header (actor id and
//   envelope length as little-endian u32, then a flags byte), the envelope,
//   the body. One buffer is the cheapest message Chromium's structured clone
//   passes: an object holding two arrays costs ~20 µs more per round trip.
// - Frames with a body of TRANSFER_THRESHOLD bytes or more (object chunks)
//   travel as {actorId, envelope, body, endsCall} with the body's buffer
//   transferred, never copied: a transfer costs Chromium tens of µs, a copy
//   of a large body far more.
// Host-independent: the page, the worker script and the Node tests use it.

export const TRANSFER_THRESHOLD = 64 * 1024;
const HEADER_BYTES = 9;
const ENDS_CALL = 1;

// Whether a frame with this body goes as one packed Uint8Array.
export const packs = (body) => body.byteLength < TRANSFER_THRESHOLD;

// Copies [header, envelope, body] into one new Uint8Array. envelope and body
// may be views (of the wasm heap, say): they are read, not kept.
export function packFrame(actorId, envelope, body, endsCall = false) {
  const packed = new Uint8Array(HEADER_BYTES + envelope.length + body.length);
  const header = new DataView(packed.buffer);
  header.setUint32(0, actorId, true);
  header.setUint32(4, envelope.length, true);
  header.setUint8(8, endsCall ? ENDS_CALL : 0);
  packed.set(envelope, HEADER_BYTES);
  packed.set(body, HEADER_BYTES + envelope.length);
  return packed;
}

// The frame a packed array holds; envelope and body are views of it. Throws
// RangeError when the array is too short for what its header says.
export function unpackFrame(packed) {
  const header = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const envelopeEnd = HEADER_BYTES + header.getUint32(4, true);
  if (envelopeEnd > packed.length) throw new RangeError("packed frame shorter than its envelope");
  return {
    actorId: header.getUint32(0, true),
    envelope: packed.subarray(HEADER_BYTES, envelopeEnd),
    body: packed.subarray(envelopeEnd),
    endsCall: (header.getUint8(8) & ENDS_CALL) !== 0,
  };
}

// The actor a packed frame is for, without unpacking the rest.
export const packedActorId = (packed) =>
  new DataView(packed.buffer, packed.byteOffset, packed.byteLength).getUint32(0, true);
