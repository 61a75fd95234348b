// Mailboxes and a fair run loop for the actors one worker hosts. Each actor
// has a FIFO mailbox; the loop takes one message from each actor with mail in
// turn (round robin) and runs it to completion, and gives the event loop back
// after a time slice so new messages arrive and no busy actor starves the rest.
// A delivery never waits: an actor's operation that waits on storage yields,
// and the reply comes back later as one more message in its mailbox. So many
// calls are in flight per worker, and a slow IndexedDB transaction holds up
// only the operation that waits for it.
// Host-independent (no DOM, no wasm): the worker script and the Node unit
// tests both use it.

export class Mailboxes {
  static CONTROL = -1;  // the mailbox of the worker's own chores (spawn, stop)

  // deliver(actorId, message) runs one message to completion, synchronously:
  // one message at a time per worker, never re-entering the wasm core. What
  // it returns is ignored (a promise is not waited for).
  // yieldTo(callback) schedules callback as a new task (MessageChannel in a
  // worker, setImmediate in Node).
  constructor(deliver, yieldTo, sliceMs = 8) {
    this.deliver = deliver;
    this.yieldTo = yieldTo;
    this.sliceMs = sliceMs;
    this.boxes = new Map();  // actorId -> array of messages
    this.ready = [];         // actorIds with mail, in turn order
    this.scheduled = false;
    this.running = false;
  }

  post(actorId, message) {
    let box = this.boxes.get(actorId);
    if (!box) {
      box = [];
      this.boxes.set(actorId, box);
    }
    box.push(message);
    if (box.length === 1) this.ready.push(actorId);
    // An idle loop runs the message now, in this task: no extra hop for the
    // common case of one call at a time. A busy one picks it up in turn.
    if (!this.running && !this.scheduled) {
      this.run();
    } else {
      this.schedule();
    }
  }

  // Drops an actor's mailbox (the actor stopped).
  remove(actorId) {
    this.boxes.delete(actorId);
    this.ready = this.ready.filter((id) => id !== actorId);
  }

  schedule() {
    if (this.scheduled || this.running || this.ready.length === 0) return;
    this.scheduled = true;
    this.yieldTo(() => this.run());
  }

  run(until = Date.now() + this.sliceMs) {
    this.scheduled = false;
    this.running = true;
    try {
      while (this.ready.length > 0) {
        const actorId = this.ready.shift();
        const box = this.boxes.get(actorId);
        if (!box || box.length === 0) continue;
        const message = box.shift();
        if (box.length > 0) this.ready.push(actorId);
        this.deliver(actorId, message);
        if (Date.now() >= until) break;
      }
    } finally {
      this.running = false;
    }
    this.schedule();
  }

  // Runs fn (e.g. creating an actor) between two deliveries, never during
  // one; resolves to what it returns.
  exclusive(fn) {
    return new Promise((resolve, reject) => {
      this.post(Mailboxes.CONTROL, {
        run: () => {
          try {
            resolve(fn());
          } catch (error) {
            reject(error);
          }
        },
      });
    });
  }
}
