// When a body crosses between the page and a worker by transfer rather than
// by copy: transferring costs Chromium tens of microseconds per buffer, so
// only bodies this large (object chunks) are transferred.
export const TRANSFER_THRESHOLD = 64 * 1024;
