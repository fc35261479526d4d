// Reads a text/event-stream body from fetch() and hands each event's data to onData.
// Only what the two feeds we read use is interpreted: `data:` lines (joined by "\n" when an
// event has several), comments (ignored) and blank lines (end of event). `event:`, `id:` and
// `retry:` lines are skipped, as the ChatKit protocol never sends them.

/**
 * @param {ReadableStream<Uint8Array>} body
 * @param {(data: string) => void} onData called once per complete event, in order
 * @returns {Promise<void>} resolves when the body ends; rejects on a read error (including abort)
 */
export async function readEventStream(body, onData) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = ''; // text after the last complete line
  let dataLines = [];
  const takeLine = (line) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') {
      if (dataLines.length) onData(dataLines.join('\n'));
      dataLines = [];
    } else if (line.startsWith('data:')) {
      dataLines.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let start = 0;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
        takeLine(pending.slice(start, nl));
        start = nl + 1;
      }
      pending = pending.slice(start);
    }
    pending += decoder.decode();
    if (pending) takeLine(pending);
    takeLine(''); // a body that ends without a blank line still delivers its last event
  } finally {
    reader.releaseLock();
  }
}
