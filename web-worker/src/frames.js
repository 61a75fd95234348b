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

// Header fields are read and written byte by byte: a DataView per frame costs
// more than the rest of packing a small frame.
const readU32 = (b, at) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
function writeU32(b, at, value) {
  b[at] = value;
  b[at + 1] = value >>> 8;
  b[at + 2] = value >>> 16;
  b[at + 3] = value >>> 24;
}

// Copies [header, envelope, body] into one new Uint8Array. envelope and body
// may be views (of the wasm heap, say): they are read, not kept.
export function packFrame(actorId, envelope, body, endsCall = false) {
  const packed = new Uint8Array(HEADER_BYTES + envelope.length + body.length);
  writeU32(packed, 0, actorId);
  writeU32(packed, 4, envelope.length);
  packed[8] = endsCall ? ENDS_CALL : 0;
  packed.set(envelope, HEADER_BYTES);
  if (body.length > 0) packed.set(body, HEADER_BYTES + envelope.length);
  return packed;
}

// The frame a packed array holds; envelope and body are views of it. Throws
// RangeError when the array is shorter than its header or than the envelope
// its header announces.
export function unpackFrame(packed) {
  if (packed.length < HEADER_BYTES) throw new RangeError("packed frame shorter than its header");
  const envelopeEnd = HEADER_BYTES + readU32(packed, 4);
  if (envelopeEnd > packed.length) throw new RangeError("packed frame shorter than its envelope");
  return {
    actorId: readU32(packed, 0),
    envelope: packed.subarray(HEADER_BYTES, envelopeEnd),
    body: packed.subarray(envelopeEnd),
    endsCall: (packed[8] & ENDS_CALL) !== 0,
  };
}

// The actor a packed frame is for, without unpacking the rest.
export const packedActorId = (packed) => readU32(packed, 0);
