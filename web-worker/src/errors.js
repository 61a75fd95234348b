// CloudKitError: every failure the JS API reports, with the protocol's status
// code (the same codes and messages as the daemon).
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";

export class CloudKitError extends Error {
  constructor(code, message, { retryable = false, retryAfterMs = 0 } = {}) {
    super(message);
    this.name = "CloudKitError";
    this.code = code;                       // numeric StatusCode
    this.codeName = StatusCode[code] ?? String(code);  // e.g. "NOT_FOUND"
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

export function invalidArgument(message) {
  return new CloudKitError(StatusCode.INVALID_ARGUMENT, `invalid argument: ${message}`);
}
