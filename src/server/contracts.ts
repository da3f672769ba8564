/**
 * Boundary: pipeline -> WebSocket subscribers.
 *
 * Each subscriber owns a bounded queue (server.clientQueueMessages). Policy when
 * full: drop the oldest `scores`/`status` message and count it; `event.*`
 * messages are never dropped (a client whose queue is all events past the bound
 * is disconnected as stalled). Messages are serialised once per broadcast and
 * shared as strings; subscribers never mutate them.
 */
export interface SubscriberStats {
  readonly queued: number;
  readonly dropped: number;
  readonly sent: number;
}
