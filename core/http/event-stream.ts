/**
 * `GET /api/events`: run events as server-sent events. Each event's `id:` is its sequence number,
 * so a browser's `EventSource` that reconnects sends `Last-Event-ID` and gets what it missed
 * (the engine's event source replays from that number); a comment line every
 * `HEARTBEAT_MS` keeps proxies and the SSH tunnel from closing a quiet stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunEventSource } from '../contract/methods.js';

/** How often a quiet stream gets a comment line. */
export const HEARTBEAT_MS = 15_000;
/**
 * A client that reads slower than events arrive is disconnected once this much is queued for it;
 * its `EventSource` reconnects and resumes from its last event, so nothing is lost and memory stays bounded.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** Where a client resumes: `Last-Event-ID` (sent by EventSource on reconnect), else `?lastEventId=`. */
function resumeAfter(request: IncomingMessage, url: URL): number | undefined {
  const raw = request.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

export interface EventStreams {
  /** Answers one `GET /api/events` (already authorised) until the client or the server closes it. */
  open(request: IncomingMessage, response: ServerResponse, url: URL): void;
  /** Ends every open stream (on shutdown). */
  closeAll(): void;
}

export function createEventStreams(source: RunEventSource, headers: Readonly<Record<string, string>>): EventStreams {
  const open = new Set<() => void>();
  return {
    open(request, response, url) {
      response.writeHead(200, {
        ...headers,
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      response.flushHeaders();
      // The comment line makes the browser fire `open` at once; `retry` sets its reconnect wait.
      response.write(': pds run events\nretry: 2000\n\n');

      // Filled in once subscribed; a replay may close the stream before `subscribe` returns.
      const subscription = { stop: (): void => undefined };
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const close = (): void => {
        if (!open.delete(close)) return;
        clearInterval(heartbeat);
        subscription.stop();
        response.end();
      };
      open.add(close);
      // The response closes when the client goes away (or the connection drops).
      response.on('close', close);
      response.on('error', close);

      const unsubscribe = source.subscribe(
        (event) => {
          if (!open.has(close)) return;
          // JSON.stringify never emits a raw newline, so `data:` stays one line.
          response.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
          if (response.writableLength > MAX_QUEUED_BYTES) close();
        },
        { afterSeq: resumeAfter(request, url) },
      );
      // A subscription that replayed into a stream already closed must not stay registered.
      if (open.has(close)) subscription.stop = unsubscribe;
      else unsubscribe();
    },
    closeAll() {
      for (const close of [...open]) close();
    },
  };
}
