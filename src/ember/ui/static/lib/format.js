// How numbers and times read on every page; the same forms as src/ember/ui/format.py.

/** 1.23 s, 123 ms, 12.3 ms, 850 µs, 120 ns. */
export function duration(ns) {
  if (ns === null || ns === undefined || Number.isNaN(ns)) return "";
  if (ns < 0) return "-" + duration(-ns);
  if (ns >= 60e9) {
    const minutes = Math.floor(ns / 60e9);
    return `${minutes} min ${Math.round((ns - minutes * 60e9) / 1e9)} s`;
  }
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e7) return `${Math.round(ns / 1e6)} ms`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns >= 1e3) return `${Math.round(ns / 1e3)} µs`;
  return `${Math.round(ns)} ns`;
}

const counter = new Intl.NumberFormat("en-US");

/** 12,345 */
export function count(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "";
  return counter.format(value);
}

/** $1.23, $0.0123, $0.000012, $0.00000020: two significant digits at least. */
export function usd(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "";
  if (value === 0) return "$0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1) return "$" + value.toFixed(2);
  if (magnitude >= 0.01) return "$" + value.toFixed(4);
  const decimals = Math.min(12, 1 - Math.floor(Math.log10(magnitude)));
  return "$" + value.toFixed(decimals);
}

/** Run `fn` once calls have stopped for `ms` milliseconds. */
export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** The message of an Ember JSON error envelope, or the HTTP status. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`;
}
