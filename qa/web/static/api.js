// Talking to the server: JSON requests, readable errors, server-sent events.

/** An error whose message is fit to show to the user. */
export class ApiError extends Error {}

/** A readable message for a failed HTTP response; never shows raw bodies. */
export async function httpErrorMessage(res) {
  let msg = null;
  try {
    const data = await res.json();
    if (data && data.error && typeof data.error.message === 'string') msg = data.error.message;
  } catch { /* not JSON: fall through to a generic text */ }
  const retry = Number(res.headers.get('Retry-After'));
  const secs = Math.ceil(retry);
  const wait = !Number.isFinite(retry) || retry <= 0 ? ' Please try again shortly.'
    : secs === 1 ? ' Please try again in a second.' : ` Please try again in ${secs} seconds.`;
  if (res.status === 429) return (msg || 'Too many questions at once.') + wait;
  if (res.status === 503) return (msg || 'The service is temporarily unavailable.') + wait;
  if (msg) return msg;
  return res.status >= 500 ? 'The server had a problem answering. Please try again.' : `The request was rejected (HTTP ${res.status}).`;
}

export async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new ApiError(await httpErrorMessage(res));
  try { return await res.json(); } catch { throw new ApiError('The server sent an unexpected response.'); }
}

export function validResponse(r) {
  return r && typeof r === 'object' && typeof r.answer === 'string';
}

/** Parse a server-sent-event stream from a fetch body, calling onEvent(name, data). */
export async function readSSE(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const dispatch = (block) => {
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line.startsWith(':')) continue; // comment / keep-alive
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) return undefined;
    let parsed;
    try { parsed = JSON.parse(data.join('\n')); } catch { throw new ApiError('The server sent an unreadable stream.'); }
    return onEvent(name, parsed);
  };
  for (;;) {
    const { value, done } = await reader.read();
    buf += decoder.decode(value || new Uint8Array(), { stream: !done });
    const blocks = buf.split(/\r\n\r\n|\n\n|\r\r/);
    buf = blocks.pop();
    for (const b of blocks) {
      if (dispatch(b) === 'stop') { reader.cancel().catch(() => {}); return; }
    }
    if (done) { if (buf.trim()) dispatch(buf); return; }
  }
}
